"""Deploy a rendered swarm stack with the docker CLI: read what runs, apply, wait, verify,
roll back, and keep the release history on the swarm itself.

Releases are swarm configs labelled ``io.vitalyst.release.*`` rather than service labels:
``docker stack deploy`` rewrites every service's labels from the stack file, so a label
set beside it would vanish on the next deploy, while a config stays in the swarm's raft
store until removed (and ``stack deploy --prune`` prunes services only).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..yamlsource import load_rendered
from .model import Change, DeployError, Event, Release, ServiceState, digest_of, probe_outcome, run_cli

STACK_FILE = "compose/docker-compose.yml"
RELEASE_LABEL = "io.vitalyst.release"
SETTLED = ("completed", "rollback_completed", "paused", "rollback_paused")

Emit = Callable[[Event], None]


def _document(files: Mapping[str, str]) -> dict[str, Any]:
    data, _ = load_rendered(files[STACK_FILE], STACK_FILE)
    if not isinstance(data, dict):
        raise DeployError(f"{STACK_FILE} is not a YAML map")
    return data


def stack_services(files: Mapping[str, str]) -> dict[str, ServiceState]:
    """The desired state of every service of a rendered stack file.

    A service's config digest covers its definition but for image and replicas (which
    the plan shows on their own) plus the top-level configs it mounts (their names carry
    a content hash), so a redis.conf edit counts as a change.
    """
    document = _document(files)
    configs = document.get("configs") or {}
    states = {}
    for name, service in (document.get("services") or {}).items():
        deploy = service.get("deploy") or {}
        replicas = None if deploy.get("mode") == "global" else int(deploy.get("replicas", 1))
        mounted = {ref["source"]: configs.get(ref["source"]) for ref in service.get("configs") or [] if isinstance(ref, dict)}
        rest = {**service, "image": None, "deploy": {**deploy, "replicas": None}}
        states[name] = ServiceState(name, (service["image"],), replicas, digest_of({"service": rest, "configs": mounted}))
    return states


def stack_files(files: Mapping[str, str]) -> dict[str, str]:
    """The stack file and every file it names (``file:`` of configs and secrets)."""
    document = _document(files)
    wanted = {STACK_FILE: files[STACK_FILE]}
    for section in ("configs", "secrets"):
        for item in (document.get(section) or {}).values():
            if isinstance(item, dict) and "file" in item:
                path = os.path.normpath(os.path.join(os.path.dirname(STACK_FILE), item["file"]))
                if path not in files:
                    raise DeployError(f"{STACK_FILE} names {item['file']!r}, which the render did not make")
                wanted[path] = files[path]
    return wanted


def external_secrets(files: Mapping[str, str]) -> list[str]:
    document = _document(files)
    return sorted(item.get("name", key) for key, item in (document.get("secrets") or {}).items() if isinstance(item, dict) and item.get("external"))


def health_tests(files: Mapping[str, str]) -> dict[str, list[str]]:
    document = _document(files)
    return {
        name: list(service["healthcheck"]["test"])
        for name, service in (document.get("services") or {}).items()
        if (service.get("healthcheck") or {}).get("test") and not service["healthcheck"].get("disable")
    }


def _digest(reference: str) -> str:
    return reference.partition("@")[2]


class Swarm:
    """A swarm manager reached by the docker CLI as configured (DOCKER_HOST, context)."""

    platform = "swarm"

    def __init__(self, stack: str, *, docker: str = "docker", env: Mapping[str, str] | None = None, keep: int = 10):
        self.stack = stack
        self.docker_cli = docker
        self.env = dict(env) if env is not None else None
        self.keep = keep
        self._before: dict[str, dict[str, Any]] = {}

    # -- the CLI ------------------------------------------------------------------------

    def docker(self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return run_cli(self.docker_cli, args, env=self.env, input=input, check=check, timeout=timeout)

    @property
    def target(self) -> str:
        env = self.env if self.env is not None else os.environ
        host = env.get("DOCKER_HOST") or f"context {env.get('DOCKER_CONTEXT', 'default')}"
        return f"swarm {self.stack} at {host}"

    def connect(self) -> None:
        if shutil.which(self.docker_cli, path=(self.env or os.environ).get("PATH")) is None:
            raise DeployError(f"the docker CLI {self.docker_cli!r} is not installed (or not on PATH)")
        result = self.docker("info", "--format", "{{json .Swarm}}", check=False, timeout=30)
        if result.returncode != 0:
            raise DeployError(f"cannot reach the docker engine: {result.stderr.strip() or result.stdout.strip()}")
        swarm = json.loads(result.stdout or "{}")
        if swarm.get("LocalNodeState") != "active" or not swarm.get("ControlAvailable"):
            raise DeployError("this docker engine is not a swarm manager (docker swarm init, or point DOCKER_HOST at a manager)")

    def _cli_major(self) -> int:
        version = self.docker("version", "--format", "{{.Client.Version}}", timeout=30).stdout.strip()
        match = re.match(r"(\d+)", version)
        return int(match.group(1)) if match else 0

    # -- state --------------------------------------------------------------------------

    def desired(self, files: Mapping[str, str]) -> dict[str, ServiceState]:
        return stack_services(files)

    def deploy_files(self, files: Mapping[str, str]) -> dict[str, str]:
        return stack_files(files)

    def switches(self, files: Mapping[str, str]) -> dict[str, str]:
        """A swarm stack has no traffic switch: each service updates in place."""
        return {}

    def missing_secrets(self, files: Mapping[str, str]) -> list[str]:
        present = set(self.docker("secret", "ls", "--format", "{{.Name}}").stdout.split())
        return [name for name in external_secrets(files) if name not in present]

    def _inspect(self) -> dict[str, dict[str, Any]]:
        names = self.docker("service", "ls", "--quiet", "--filter", f"label=com.docker.stack.namespace={self.stack}").stdout.split()
        if not names:
            return {}
        found = {}
        for data in json.loads(self.docker("service", "inspect", *names).stdout):
            found[data["Spec"]["Name"].removeprefix(f"{self.stack}_")] = data
        return found

    def current(self, desired: Mapping[str, ServiceState], last: Release | None) -> dict[str, ServiceState]:
        """What runs now. The config digest comes from the last release's files when the
        service still runs that release's image; otherwise it is unknown."""
        recorded = stack_services(last.files) if last is not None and STACK_FILE in last.files else {}
        states = {}
        for name, data in self._inspect().items():
            image = data["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
            wanted = desired.get(name) or recorded.get(name)
            if wanted is not None and _digest(image) and _digest(image) == _digest(wanted.images[0]):
                image = wanted.images[0]  # the CLI may have resolved the same digest to another spelling
            mode = data["Spec"].get("Mode") or {}
            replicas = None if "Global" in mode else int((mode.get("Replicated") or {}).get("Replicas", 1))
            known = recorded.get(name)
            config = known.config if known is not None and known.images == (image,) else ""
            states[name] = ServiceState(name, (image,), replicas, config)
        return states

    # -- apply, wait, verify, roll back -----------------------------------------------------

    def apply(self, files: Mapping[str, str]) -> None:
        self._before = self._inspect()
        with tempfile.TemporaryDirectory(prefix="vitalyst-deploy-") as folder:
            for path, text in files.items():
                target = Path(folder, path)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            args = ["stack", "deploy", "--with-registry-auth", "--prune", "-c", str(Path(folder, STACK_FILE)), self.stack]
            if self._cli_major() >= 23:
                args.insert(2, "--detach=true")  # newer CLIs would wait on their own, without health
            self.docker(*args, timeout=300)

    def _tasks(self, service: str) -> list[dict[str, Any]]:
        result = self.docker("service", "ps", f"{self.stack}_{service}", "--no-trunc", "--filter", "desired-state=running", "--format", "{{json .}}", check=False)
        return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]

    def wait(self, changes: tuple[Change, ...], timeout: float, emit: Emit) -> dict[str, str]:
        """Poll until every created or updated service runs its replicas on the new spec
        (swarm counts a task running only once its health check passes), or fails.
        Returns the failures: service -> why."""
        pending = {c.service: c for c in changes if c.action in ("create", "update")}
        failures: dict[str, str] = {}
        shown: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        while pending:
            now = self._inspect()
            for name, change in list(pending.items()):
                state, message = self._progress(name, change, now.get(name))
                if shown.get(name) != message:
                    emit(Event("wait", "progress" if state == "waiting" else ("ok" if state == "converged" else "failed"), message, name))
                    shown[name] = message
                if state == "converged":
                    del pending[name]
                elif state == "failed":
                    failures[name] = message
                    del pending[name]
            if pending and time.monotonic() > deadline:
                for name in pending:
                    failures[name] = f"not converged within {timeout:.0f}s ({shown.get(name, 'no progress')})"
                    emit(Event("wait", "failed", failures[name], name))
                break
            if pending:
                time.sleep(1)
        return failures

    def _progress(self, name: str, change: Change, data: dict[str, Any] | None) -> tuple[str, str]:
        if data is None:
            return "waiting", "service not created yet"
        assert change.after is not None
        status = data.get("UpdateStatus") or {}
        before = self._before.get(name)
        if before is not None:
            # An update this release started: its StartedAt is new. Judge it by its own
            # state, since once swarm has rolled it back the spec equals the old one again.
            started = status.get("StartedAt")
            ours = bool(started) and started != (before.get("UpdateStatus") or {}).get("StartedAt")
            state = str(status.get("State", "")) if ours else ""
            if ours and state not in SETTLED:
                return "waiting", f"updating ({state or 'pending'})"
            if ours and state != "completed":
                return "failed", f"update {state}: {status.get('Message', '').strip() or 'no message'}"
            if not ours and before["Spec"]["TaskTemplate"] != data["Spec"]["TaskTemplate"]:
                return "waiting", "update pending"
        tasks = self._tasks(name)
        wanted = _digest(change.after.images[0])
        running = [t for t in tasks if str(t.get("CurrentState", "")).startswith("Running") and (not wanted or wanted in str(t.get("Image", "")) or wanted in data["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"])]
        replicas = change.after.replicas
        if replicas is not None and len(running) < replicas:
            errors = sorted({str(t.get("Error")) for t in tasks if t.get("Error")})
            return "waiting", f"{len(running)}/{replicas} running" + (f" ({'; '.join(errors)[:200]})" if errors else "")
        return "converged", f"{len(running)}/{replicas if replicas is not None else len(running)} running and healthy"

    def cutover(self, emit: Emit) -> dict[str, str]:
        """Nothing to move: a swarm service's update is its cutover."""
        return {}

    def verify(self, files: Mapping[str, str], emit: Emit) -> dict[str, str]:
        """Run each service's own health check inside one of its running containers on this
        node: the health endpoint as the service network sees it."""
        failures: dict[str, str] = {}
        for name, test in sorted(health_tests(files).items()):
            listed = self.docker("ps", "--quiet", "--filter", f"label=com.docker.swarm.service.name={self.stack}_{name}", "--filter", "status=running").stdout.split()
            if not listed:
                emit(Event("verify", "skipped", "no running container on this node to probe from", name))
                continue
            argv = ["sh", "-c", test[1]] if test[0] == "CMD-SHELL" else test[1:]
            probe_outcome(name, self.docker("exec", listed[0], *argv, check=False, timeout=60), emit, failures)
        return failures

    def rollback(self, changes: tuple[Change, ...], failures: Mapping[str, str], timeout: float, emit: Emit) -> list[str]:
        """Return every updated service to its previous spec with ``docker service
        rollback``; one that swarm rolled back itself already is left as it is, and one
        this release never reached (the apply failed first) too, since its previous spec
        is the release before. Created services have no previous spec and stay: a
        rollback never removes a workload."""
        rolled = []
        now = self._inspect()
        for change in changes:
            if change.action == "create":
                emit(Event("rollback", "skipped", "new in this release: left running, never removed", change.service))
                continue
            if change.action != "update":
                continue
            before, current = self._before.get(change.service), now.get(change.service)
            if before is not None and current is not None and before["Version"]["Index"] == current["Version"]["Index"]:
                emit(Event("rollback", "skipped", "not changed by this release: nothing to roll back", change.service))
                continue
            state = ((current or {}).get("UpdateStatus") or {}).get("State", "")
            if state.startswith("rollback"):
                emit(Event("rollback", "ok", f"swarm already rolled it back ({state})", change.service))
                rolled.append(change.service)
                continue
            started = ((current or {}).get("UpdateStatus") or {}).get("StartedAt")
            self.docker("service", "rollback", "--detach", f"{self.stack}_{change.service}", timeout=120)
            final = self._wait_rollback(change.service, started, timeout)
            emit(Event("rollback", "ok" if final == "rollback_completed" else "failed", f"docker service rollback: {final}", change.service))
            rolled.append(change.service)
        return rolled

    def _wait_rollback(self, service: str, started: str | None, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        state = "unknown"
        while time.monotonic() < deadline:
            status = (self._inspect().get(service) or {}).get("UpdateStatus") or {}
            state = str(status.get("State", ""))
            if status.get("StartedAt") != started and state in SETTLED:
                return state
            time.sleep(1)
        return f"not settled within {timeout:.0f}s ({state})"

    # -- history ----------------------------------------------------------------------------

    def releases(self) -> list[Release]:
        names = self.docker("config", "ls", "--filter", f"label={RELEASE_LABEL}.stack={self.stack}", "--format", "{{.Name}}").stdout.split()
        if not names:
            return []
        found = []
        for data in json.loads(self.docker("config", "inspect", *names).stdout):
            found.append(Release.decode(base64.b64decode(data["Spec"]["Data"]).decode()))
        return sorted(found, key=lambda r: r.revision)

    def record(self, release: Release) -> None:
        name = f"{self.stack}-release-{release.revision:05d}"
        labels = {"stack": self.stack, "profile": release.profile, "revision": str(release.revision), "result": release.result}
        flags = [f"--label={RELEASE_LABEL}.{key}={value}" for key, value in labels.items()]
        self.docker("config", "create", *flags, name, "-", input=release.encode())
        kept = self.releases()
        for old in kept[: max(0, len(kept) - self.keep)]:
            self.docker("config", "rm", f"{self.stack}-release-{old.revision:05d}", check=False)
