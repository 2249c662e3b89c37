"""VR603: memory settings fit their container limits, and limits agree across platforms."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import partial

from .. import redisconf
from ..errors import Location
from ..plan import MemoryBudget, MemorySource, ServicePlan
from ..profile.models import ResourceAmounts
from ..profile.types import cpu_millis, memory_bytes
from ._cross import compose_service, kube_containers
from .base import Problem, Severity, check
from .context import CheckContext
from .examples import ADD_CACHE, ADD_WORKER, Edit, Expect, Fail, Pass

_NEO4J = "service neo4j: heap + page cache (the JVM needs the rest) is 8.00 GiB, more than 90% of its 8Gi memory limit"
_NODE = "service frontend: V8's old space (--max-old-space-size) is 3.00 GiB, more than 100% of its 2Gi memory limit"

EXAMPLES = (
    Fail("the seed's maxmemory 1gb in a 1Gi container that persists",
         edits=[Edit("redis/redis.conf", "maxmemory 751619276", "maxmemory 1gb")],
         expect=[Expect("redis/redis.conf", "service redis: maxmemory while it persists (a save forks and copies pages) is 1.00 GiB, "
                                            "more than 75% of its 1Gi memory limit")]),
    Fail("Neo4j heap 4g + page cache 4g in an 8Gi limit, in the profile",
         overlay="services:\n  neo4j:\n    memory: {heap: 4g, pagecache: 4g}\n",
         expect=[Expect("compose/docker-compose.yml", _NEO4J), Expect("kubernetes/neo4j.yaml", _NEO4J)]),
    Fail("a Node app whose NODE_OPTIONS old space exceeds its limit, in both colours",
         overlay="services:\n  frontend:\n    env:\n      NODE_OPTIONS: --max-old-space-size=3072\n",
         expect=[Expect("compose/docker-compose.yml", _NODE), Expect("kubernetes/frontend.yaml", _NODE),
                 Expect("kubernetes/frontend.yaml", _NODE)]),
    Fail("a second Redis (a cache) whose maxmemory exceeds its whole limit", overlay=ADD_CACHE,
         edits=[Edit("redis/cache.conf", "maxmemory 483183820", "maxmemory 600000000")],
         expect=[Expect("redis/cache.conf", "service cache: maxmemory is 0.56 GiB, more than 100% of its 512Mi memory limit")]),
    Fail("a Kubernetes memory limit that is not the profile's", profile="staging",
         edits=[Edit("kubernetes/frontend.yaml", 'memory: "2Gi"', 'memory: "3Gi"')],
         expect=[Expect("kubernetes/frontend.yaml", "service frontend: Kubernetes limits memory 3Gi differs from the profile's 2Gi")]),
    Fail("a compose memory limit that is not the profile's",
         edits=[Edit("compose/docker-compose.yml", 'memory: "2g"', 'memory: "3g"')],
         expect=[Expect("compose/docker-compose.yml", "service frontend: compose limits memory 3g differs from the profile's 2Gi")]),
    Pass("a cache that does not persist may set maxmemory to 90% of its limit", overlay=ADD_CACHE),
    Pass("a Node old space of 1.5 GiB inside a 2Gi limit",
         overlay="services:\n  frontend:\n    env:\n      NODE_OPTIONS: --max-old-space-size=1536\n"),
    Pass("a worker added in the profile gets its own limits in compose and Kubernetes", overlay=ADD_WORKER),
)

_COMPOSE_UNITS = {"b": 1, "k": 2**10, "m": 2**20, "g": 2**30}
_JVM = re.compile(r"^(\d+)([kKmMgG]?)$")


def compose_bytes(value: object) -> int | None:
    match = re.fullmatch(r"(\d+)([bkmg])", str(value))
    return int(match.group(1)) * _COMPOSE_UNITS[match.group(2)] if match else None


def compose_cpu(value: object) -> int | None:
    try:
        return round(float(str(value)) * 1000)
    except ValueError:
        return None


def _bytes(value: str, unit: str) -> int | None:
    """A memory setting's value in bytes, read the way its program reads it."""
    if unit == "jvm":
        match = _JVM.match(value)
        return int(match.group(1)) * {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}[match.group(2).lower()] if match else None
    if unit == "redis-size":
        return redisconf.memory(value)
    match = re.search(r"--max-old-space-size=(\d+)", value)  # node-mib
    return int(match.group(1)) * 2**20 if match else None


def _config_value(ctx: CheckContext, source: MemorySource) -> tuple[str, Location] | None:
    artefact = ctx.artefact(source.file or "")
    if artefact is None:
        return None
    try:
        directives = redisconf.parse(artefact.text)
    except redisconf.ConfSyntaxError:
        return None  # VR501's business
    found = next((d for d in reversed(directives) if d.name == source.key and d.arguments), None)
    return (found.arguments[0], ctx.location(artefact.path, found.line)) if found else None


def _known(location: Location) -> Callable[[], Location]:
    return lambda: location


def _budget(ctx: CheckContext, service: ServicePlan, budget: MemoryBudget, env: Mapping[str, str] | None,
            where: Callable[[], Location] | None) -> Iterable[Problem]:
    """One reading of the budget: env values from one artefact (found at ``where``, for a finding), config values from
    their files."""
    total = 0
    location = where
    for source in budget.sources:
        if source.where == "env":
            value = (env or {}).get(source.key)
            if value is None:
                return  # this artefact does not set it: nothing to add up
        else:
            found = _config_value(ctx, source)
            if found is None:
                return
            value, location = found[0], location or _known(found[1])
        amount = _bytes(str(value), source.unit)
        if amount is None:
            return
        total += amount
    limit = memory_bytes(service.resources.limits.memory)
    if location is not None and total > budget.share * limit:
        yield Problem(f"service {service.name}: {budget.why} is {total / 2**30:.2f} GiB, more than {budget.share:.0%} of its "
                      f"{service.resources.limits.memory} memory limit", location(),
                      related=(ctx.in_profile("services", service.name, "resources", "limits", "memory"),))


def _kube_env(container: dict[str, object]) -> dict[str, str]:
    env = container.get("env") or []
    return {str(e.get("name")): str(e.get("value", "")).replace("$$", "$") for e in env if isinstance(e, dict)} if isinstance(env, list) else {}


@check("VR603", "cross-memory-budget", "a memory setting does not fit its container limit, or limits disagree", Severity.ERROR,
       examples=EXAMPLES)
def memory_budget(ctx: CheckContext) -> Iterable[Problem]:
    """Memory inside a container fits the container, as each service's kind plans it:

    * a ``redis`` service's ``maxmemory`` (read from its rendered redis.conf) is at
      most 75% of its limit when it persists (a save forks and copies pages), and at
      most 100% otherwise;
    * a ``neo4j`` service's heap plus page cache (read from the compose and Kubernetes
      environment) is at most 90% of its limit (the JVM needs the rest);
    * a ``node-app`` service's ``--max-old-space-size`` (in ``NODE_OPTIONS``) fits its limit;
    * CPU and memory requests and limits are the profile's, in compose and Kubernetes.

    The seed's ``maxmemory 1gb`` inside a 1G limit was OOM-killed on its first save.

    Remediation: lower ``config.maxmemory_ratio`` or ``memory.heap``/``memory.pagecache``,
    or raise the service's ``resources.limits.memory``.
    """
    for service in ctx.plan.services.values():
        name = service.name
        related = (ctx.in_profile("services", name, "resources"),)
        compose = compose_service(ctx, name)
        if compose is not None:
            resources = (compose[0].get("deploy") or {}).get("resources") or {}
            for kind, planned in (("limits", service.resources.limits), ("reservations", service.resources.requests)):
                yield from _compose_amounts(name, kind, resources.get(kind) or {}, planned, compose[1], related)
        for obj, container, path in kube_containers(ctx, service):
            amounts = container.get("resources") or {}
            for kind, planned in (("limits", service.resources.limits), ("requests", service.resources.requests)):
                given = amounts.get(kind) or {}
                if given.get("memory") and memory_bytes(str(given["memory"])) != memory_bytes(planned.memory):
                    yield Problem(f"service {name}: Kubernetes {kind} memory {given['memory']} differs from the profile's {planned.memory}",
                                  obj.at(*path, "resources"), related=related)
                if given.get("cpu") and cpu_millis(str(given["cpu"])) != cpu_millis(planned.cpu):
                    yield Problem(f"service {name}: Kubernetes {kind} cpu {given['cpu']} differs from the profile's {planned.cpu}",
                                  obj.at(*path, "resources"), related=related)
        budget = service.memory
        if budget is None:
            continue
        if all(source.where == "config" for source in budget.sources):
            yield from _budget(ctx, service, budget, None, None)
            continue
        if compose is not None:
            environment = compose[0].get("environment") or {}
            env = {str(k): str(v) for k, v in environment.items()} if isinstance(environment, dict) else {}
            yield from _budget(ctx, service, budget, env, partial(ctx.where, ctx.compose.artefact, "services", name, "environment") if ctx.compose else compose[1])
        for obj, container, path in kube_containers(ctx, service):
            yield from _budget(ctx, service, budget, _kube_env(container), partial(obj.at, *path, "env"))


def _compose_amounts(name: str, kind: str, given: dict[str, object], planned: ResourceAmounts, where: Callable[[], Location],
                     related: tuple[Location, ...]) -> Iterable[Problem]:
    if "memory" in given and compose_bytes(given["memory"]) != memory_bytes(planned.memory):
        yield Problem(f"service {name}: compose {kind} memory {given['memory']} differs from the profile's {planned.memory}", where(), related=related)
    if "cpus" in given and compose_cpu(given["cpus"]) != cpu_millis(planned.cpu):
        yield Problem(f"service {name}: compose {kind} cpus {given['cpus']} differs from the profile's {planned.cpu}", where(), related=related)
