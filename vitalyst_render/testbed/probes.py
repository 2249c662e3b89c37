"""Prove a deployed swarm stack by trying it: each probe returns the violations it saw.

A probe compares what the running containers do with what the stack plan promised:
health within the start period, the hardening (read-only root, writable scratch paths,
the planned uid, no capabilities, no-new-privileges), secrets as owner-only files whose
values appear in no inspect output or process environment, and network reachability
equal to the planned edges. An empty list means the property holds; each violation is
one line naming the service and what it saw.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from ..plan import Probe, SecretMount, StackPlan
from ..profile.types import duration_seconds
from .engine import DEBIAN_CLI, Testbed
from .errors import TestbedError


@dataclass(frozen=True)
class Workload:
    """One compose service as the plan defines it: a service or a sidecar."""

    name: str
    replicas: int
    uid: int | None
    gid: int | None
    read_only: bool
    scratch_paths: tuple[str, ...]
    secrets: tuple[SecretMount, ...]
    ports: tuple[int, ...]
    probe: Probe


def workloads(plan: StackPlan) -> dict[str, Workload]:
    found = {}
    user = plan.profile.build.user
    for service in plan.services.values():
        run_as = service.run_as
        found[service.name] = Workload(
            service.name,
            service.replicas,
            run_as.uid if run_as else None,
            run_as.gid if run_as else None,
            service.writable_root_reason is None,
            service.scratch_paths,
            service.secrets,
            tuple(sorted({p.port for p in service.ports})),
            service.probe,
        )
        for sidecar in service.sidecars:
            found[sidecar.compose_name] = Workload(
                sidecar.compose_name, 1, user.uid, user.gid, True, sidecar.scratch_paths, sidecar.secrets, (sidecar.port.port,), sidecar.probe
            )
    return found


@dataclass(frozen=True)
class Container:
    id: str
    workload: str
    started: float  # epoch seconds
    health: str
    addresses: tuple[str, ...]


def _epoch(stamp: str) -> float:
    # Docker prints nanoseconds; fromisoformat takes at most microseconds.
    head, _, rest = stamp.rstrip("Z").partition(".")
    fraction = "".join(ch for ch in rest if ch.isdigit())[:6]
    return datetime.fromisoformat(f"{head}.{fraction or '0'}+00:00").timestamp()


def containers(testbed: Testbed, stack: str, plan: StackPlan) -> dict[str, list[Container]]:
    """The running containers of each workload of ``stack`` on this node."""
    listed = testbed.docker("ps", "--quiet", "--no-trunc", "--filter", f"label=com.docker.stack.namespace={stack}").stdout.split()
    found: dict[str, list[Container]] = {name: [] for name in workloads(plan)}
    if not listed:
        return found
    for data in json.loads(testbed.docker("inspect", *listed).stdout):
        service = data["Config"]["Labels"].get("com.docker.swarm.service.name", "").removeprefix(f"{stack}_")
        if service not in found:
            continue
        networks = data["NetworkSettings"]["Networks"] or {}
        found[service].append(
            Container(
                data["Id"],
                service,
                _epoch(data["State"]["StartedAt"]),
                (data["State"].get("Health") or {}).get("Status", "none"),
                tuple(sorted(n["IPAddress"] for n in networks.values() if n.get("IPAddress"))),
            )
        )
    return found


def wait_healthy(testbed: Testbed, stack: str, plan: StackPlan, timeout: float) -> dict[str, float]:
    """Wait until every workload runs its replicas, all healthy; return each container's
    seconds from start to first seen healthy. Raise naming what is not healthy in time."""
    healthy_after, waiting = watch_health(testbed, stack, plan, timeout)
    if waiting:
        raise TestbedError(f"stack {stack} not healthy after {timeout:.0f}s: {', '.join(waiting)}; {service_errors(testbed, stack)}")
    return healthy_after


def watch_health(testbed: Testbed, stack: str, plan: StackPlan, timeout: float) -> tuple[dict[str, float], list[str]]:
    """Poll every half second until each workload has its replicas healthy or ``timeout``
    passes: (container id -> seconds from start to first seen healthy, what still waits)."""
    wanted = workloads(plan)
    healthy_after: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while True:
        now = time.time()
        running = containers(testbed, stack, plan)
        for listed in running.values():
            for container in listed:
                if container.health == "healthy" and container.id not in healthy_after:
                    healthy_after[container.id] = now - container.started
        waiting = [
            f"{name} ({sum(c.health == 'healthy' for c in running[name])}/{w.replicas} healthy)"
            for name, w in wanted.items()
            if sum(c.health == "healthy" for c in running[name]) < w.replicas
        ]
        if not waiting or time.monotonic() > deadline:
            return healthy_after, waiting
        time.sleep(0.5)


def wait_gone(testbed: Testbed, stack: str, timeout: float) -> None:
    """Wait until no container of ``stack`` is left (``docker stack rm`` returns at once)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not testbed.docker("ps", "-aq", "--filter", f"label=com.docker.stack.namespace={stack}").stdout.strip():
            return
        time.sleep(1)
    raise TestbedError(f"containers of stack {stack} still exist after {timeout:.0f}s")


def service_errors(testbed: Testbed, stack: str) -> str:
    """The latest task errors of the stack, for a failure message."""
    result = testbed.docker("stack", "ps", stack, "--no-trunc", "--format", "{{.Name}} {{.CurrentState}} {{.Error}}", check=False)
    lines = [line for line in result.stdout.splitlines() if "Failed" in line or "Rejected" in line or line.rstrip().endswith(")")]
    return " | ".join(lines[:6]) or "no task errors"


def health_violations(plan: StackPlan, healthy_after: Mapping[str, float], running: Mapping[str, list[Container]], slack: float = 2.0) -> list[str]:
    """Every container turned healthy within its rendered start period."""
    violations = []
    for name, workload in workloads(plan).items():
        allowed = duration_seconds(workload.probe.start_period) + slack
        for container in running.get(name, []):
            seconds = healthy_after.get(container.id)
            if seconds is None:
                violations.append(f"{name}: container {container.id[:12]} never turned healthy")
            elif seconds > allowed:
                violations.append(f"{name}: healthy after {seconds:.1f}s, beyond its start period of {workload.probe.start_period}")
    return violations


def exec_in(testbed: Testbed, container: str, script: str, *args: str, env: Mapping[str, str] | None = None, timeout: float = 60) -> str:
    """Run a POSIX shell script inside the container as its own user; its stdout."""
    flags = [f"--env={key}" for key in (env or {})]  # values travel in docker's environment, not its argv
    result = testbed.docker("exec", *flags, container, "sh", "-c", script, "sh", *args, check=False, timeout=timeout, env=env)
    if result.returncode != 0:
        raise TestbedError(f"exec in {container[:12]} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout


_HARDENING = """
grep -E '^(Uid|Gid|CapPrm|CapEff|CapBnd|NoNewPrivs):' /proc/1/status
# A non-root user may not write to / anyway: only the kernel's EROFS proves a read-only root.
if refused=$( (echo probe > /.vitalyst-probe) 2>&1 ); then rm -f /.vitalyst-probe; echo 'root: writable'
else case "$refused" in *"Read-only file system"*) echo 'root: read-only';; *) echo 'root: writable, but not by this user';; esac; fi
for path in "$@"; do
  if (echo probe > "$path/.vitalyst-probe") 2>/dev/null; then rm -f "$path/.vitalyst-probe"; echo "scratch $path: writable"; else echo "scratch $path: read-only"; fi
done
"""


def hardening_violations(testbed: Testbed, running: Mapping[str, list[Container]], plan: StackPlan, no_new_privileges: bool = True) -> list[str]:
    """Read-only root, writable scratch paths, the planned uid and gid, no capabilities."""
    violations = []
    for name, workload in workloads(plan).items():
        for container in running.get(name, [])[:1]:
            lines = exec_in(testbed, container.id, _HARDENING, *workload.scratch_paths).splitlines()
            seen = dict(line.split(":", 1) for line in lines if ":" in line)
            status = {key: value.split() for key, value in seen.items()}
            if workload.uid is not None and set(status.get("Uid", [])) != {str(workload.uid)}:
                violations.append(f"{name}: runs as uid {' '.join(status.get('Uid', ['?']))}, planned {workload.uid}")
            if workload.gid is not None and set(status.get("Gid", [])) != {str(workload.gid)}:
                violations.append(f"{name}: runs as gid {' '.join(status.get('Gid', ['?']))}, planned {workload.gid}")
            for field in ("CapPrm", "CapEff", "CapBnd"):
                if int(status.get(field, ["1"])[0], 16) != 0:
                    violations.append(f"{name}: {field} is {status[field][0]}, expected no capabilities")
            if no_new_privileges and status.get("NoNewPrivs") != ["1"]:
                violations.append(f"{name}: no_new_privs is not set")
            root = seen.get("root", "").strip()
            if workload.read_only and root == "writable":
                violations.append(f"{name}: wrote outside its scratch paths (root filesystem is writable)")
            elif workload.read_only and root != "read-only":
                violations.append(f"{name}: root filesystem is not read-only ({root or 'unknown'})")
            for path in workload.scratch_paths:
                if seen.get(f"scratch {path}", "").strip() != "writable":
                    violations.append(f"{name}: scratch path {path} is not writable by uid {workload.uid}")
    return violations


def secret_violations(testbed: Testbed, stack: str, running: Mapping[str, list[Container]], plan: StackPlan, values: Mapping[str, str]) -> list[str]:
    """Each secret is a file only the service's user reads, each ``*_FILE`` setting names a
    file it can read, and no secret value shows in inspect output or a process environment."""
    violations = []
    for name, workload in workloads(plan).items():
        for container in running.get(name, [])[:1]:
            for mount in workload.secrets:
                stat = exec_in(testbed, container.id, 'stat -c "%a %u %g" "$1" && head -c 0 "$1"', mount.path).strip()
                expected = f"400 {workload.uid} {workload.gid}"
                if workload.uid is not None and stat != expected:
                    violations.append(f"{name}: secret {mount.path} has mode/owner {stat}, expected {expected}")
            inspected = testbed.docker("inspect", container.id).stdout
            for setting in json.loads(inspected)[0]["Config"]["Env"] or []:
                key, _, path = setting.partition("=")
                if key.endswith("_FILE") and path.startswith("/"):
                    if exec_in(testbed, container.id, 'test -r "$1" && echo readable; true', path).strip() != "readable":
                        violations.append(f"{name}: {key} names {path}, which the service's user cannot read")
            exposed = {
                "docker inspect": inspected + testbed.docker("service", "inspect", f"{stack}_{name}").stdout,
                "/proc/*/environ": exec_in(testbed, container.id, "cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'; true"),
            }
            for secret, value in values.items():
                for place, text in exposed.items():
                    if value and value in text:
                        violations.append(f"{name}: the value of secret {secret} appears in {place}")
    return violations


_CONNECT = """
for target in "$@"; do
  (if timeout 2 bash -c "exec 3<>/dev/tcp/${target%:*}/${target##*:}" 2>/dev/null; then echo "open $target"; else echo "closed $target"; fi) &
done
wait
"""


def reachability(testbed: Testbed, running: Mapping[str, list[Container]], plan: StackPlan) -> set[tuple[str, str]]:
    """(source, target) workload pairs where the source opened a planned port of the target
    on any of the target's addresses. Every attempt is bounded by a 2-second timeout."""
    found = workloads(plan)
    addresses: dict[str, list[str]] = {}
    owner = {}
    for name, workload in found.items():
        for container in running.get(name, [])[:1]:
            for ip in container.addresses:
                for port in workload.ports:
                    addresses.setdefault(name, []).append(f"{ip}:{port}")
                    owner[f"{ip}:{port}"] = name
    reached = set()
    for source in found:
        for container in running.get(source, [])[:1]:
            targets = [t for name, listed in addresses.items() if name != source for t in listed]
            output = exec_in(testbed, container.id, _CONNECT, *targets)
            for line in output.splitlines():
                state, _, target = line.partition(" ")
                if state == "open":
                    reached.add((source, owner[target]))
    return reached


def planned_pairs(plan: StackPlan) -> set[tuple[str, str]]:
    """Pairs that may connect: each compose edge (sidecars to their service included),
    both ways, since a network carries traffic both ways."""
    names = set(workloads(plan))
    pairs = set()
    for edge in plan.compose_edges:
        if edge.caller in names and edge.callee in names:
            pairs |= {(edge.caller, edge.callee), (edge.callee, edge.caller)}
    return pairs


def isolation_violations(reached: set[tuple[str, str]], plan: StackPlan) -> list[str]:
    expected = planned_pairs(plan)
    missing = sorted(expected - reached)
    extra = sorted(reached - expected)
    return [f"{a} cannot reach {b}, a planned edge" for a, b in missing] + [f"{a} reaches {b} with no planned edge" for a, b in extra]


_REDIS = """
ask() { user="$1"; shift; if [ -n "$user" ]; then redis-cli -h 127.0.0.1 -p "$PORT" --no-auth-warning --user "$user" "$@" 2>&1; else redis-cli -h 127.0.0.1 -p "$PORT" "$@" 2>&1; fi; }
echo "anonymous PING: $(ask '' PING)"
echo "healthcheck PING: $(REDISCLI_AUTH="$HEALTH" ask healthcheck PING)"
echo "healthcheck GET: $(REDISCLI_AUTH="$HEALTH" ask healthcheck GET vitalyst-probe)"
echo "app SET: $(REDISCLI_AUTH="$APP" ask app SET vitalyst-probe 1)"
echo "app FLUSHALL: $(REDISCLI_AUTH="$APP" ask app FLUSHALL)"
echo "app CONFIG: $(REDISCLI_AUTH="$APP" ask app CONFIG GET maxmemory)"
"""

#: What each Redis attempt must answer: the ACL lets the app work, the healthcheck only PING.
REDIS_EXPECTED = {
    "anonymous PING": "NOAUTH",
    "healthcheck PING": "PONG",
    "healthcheck GET": "NOPERM",
    "app SET": "OK",
    "app FLUSHALL": "NOPERM",
    "app CONFIG": "NOPERM",
}


def redis_violations(testbed: Testbed, container: Container, port: int, health_password: str, app_password: str) -> list[str]:
    """Anonymous clients get NOAUTH, the healthcheck user may only PING, the app user may
    not FLUSHALL or CONFIG (tried with redis-cli inside the redis container)."""
    env = {"PORT": str(port), "HEALTH": health_password, "APP": app_password}
    answers = dict(line.split(": ", 1) for line in exec_in(testbed, container.id, _REDIS, env=env).splitlines() if ": " in line)
    return [
        f"redis: {attempt} answered {answers.get(attempt, '(nothing)')!r}, expected {expected}"
        for attempt, expected in REDIS_EXPECTED.items()
        if expected not in answers.get(attempt, "")
    ]


_POLL = """
const http = require('http');
const result = {ok: 0, failed: []};
let stopping = false;
function next() { if (!stopping) setTimeout(once, 200); }
function once() {
  const request = http.get(process.argv[1], {timeout: 2000}, (response) => {
    response.resume();
    if (response.statusCode < 400) result.ok++; else result.failed.push(`${new Date().toISOString()} HTTP ${response.statusCode}`);
    next();
  });
  request.on('timeout', () => request.destroy(new Error('timed out')));
  request.on('error', (error) => { result.failed.push(`${new Date().toISOString()} ${error.message}`); next(); });
}
once();
process.stdin.on('end', () => { stopping = true; setTimeout(() => { console.log(JSON.stringify(result)); process.exit(0); }, 2500); });
process.stdin.resume();
"""


class Poller:
    """Requests ``url`` five times a second from inside a container (with its node) until
    the block ends; ``successes`` and ``failures`` are known afterwards."""

    def __init__(self, testbed: Testbed, container: Container, url: str):
        self.argv = [DEBIAN_CLI, "exec", "-i", container.id, "node", "-e", _POLL, url]
        self.env = testbed.env()
        self.successes = 0
        self.failures: list[str] = []

    def __enter__(self) -> Poller:
        self.process = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env)  # noqa: S603
        return self

    def __exit__(self, *exc: object) -> None:
        out, err = self.process.communicate(input="", timeout=60)
        if self.process.returncode != 0:
            raise TestbedError(f"the poller failed: {err.strip()}")
        result = json.loads(out)
        self.successes, self.failures = int(result["ok"]), list(result["failed"])


def update_status(testbed: Testbed, service: str) -> dict[str, str]:
    raw = testbed.docker("service", "inspect", "--format", "{{json .UpdateStatus}}", service).stdout.strip()
    status = json.loads(raw) if raw and raw != "null" else {}
    return {key: str(value) for key, value in status.items()}


def wait_update(testbed: Testbed, service: str, before: Mapping[str, str], timeout: float) -> str:
    """Wait for an update newer than ``before`` (an earlier :func:`update_status`) to settle;
    its final state: completed, rollback_completed, paused or rollback_paused."""
    deadline = time.monotonic() + timeout
    state = "none"
    while time.monotonic() < deadline:
        status = update_status(testbed, service)
        state = status.get("State", "none")
        if status.get("StartedAt") != before.get("StartedAt") and state in ("completed", "rollback_completed", "paused", "rollback_paused"):
            return state
        time.sleep(1)
    raise TestbedError(f"the update of {service} had not settled after {timeout:.0f}s (state {state})")


def join(violations: Iterable[str]) -> str:
    return "\n".join(violations)
