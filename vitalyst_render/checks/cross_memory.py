"""VR603: memory settings fit their container limits, and limits agree across platforms."""

from __future__ import annotations

import re
from typing import Iterable

from .. import redisconf
from ..profile.types import cpu_millis, memory_bytes
from ._cross import views
from .base import Problem, Severity, check

_COMPOSE_UNITS = {"b": 1, "k": 2**10, "m": 2**20, "g": 2**30}
_JVM = re.compile(r"^(\d+)([kKmMgG]?)$")


def compose_bytes(value: str) -> int | None:
    match = re.fullmatch(r"(\d+)([bkmg])", str(value))
    return int(match.group(1)) * _COMPOSE_UNITS[match.group(2)] if match else None


def jvm_bytes(value: str) -> int | None:
    match = _JVM.match(str(value))
    if not match:
        return None
    return int(match.group(1)) * {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}[match.group(2).lower()]


def compose_cpu(value: str) -> int | None:
    try:
        return round(float(value) * 1000)
    except ValueError:
        return None


@check("VR603", "cross-memory-budget", "a memory setting does not fit its container limit, or limits disagree", Severity.ERROR)
def memory_budget(ctx) -> Iterable[Problem]:
    """Memory inside a container fits the container:

    * Redis ``maxmemory`` is at most 75% of its limit when it persists (a save forks
      and copies pages), and at most 100% otherwise.
    * Neo4j heap plus page cache is at most 90% of its limit (the JVM needs the rest).
    * A Node ``--max-old-space-size`` fits the frontend's limit.
    * CPU and memory requests and limits are equal in compose and Kubernetes.

    The seed's ``maxmemory 1gb`` inside a 1G limit was OOM-killed on its first save.

    Remediation: lower ``redis.maxmemory_ratio`` or the NEO4J_server_memory_* values,
    or raise the service's ``resources.limits.memory``.

    FAIL: ``maxmemory 1gb`` with a 1Gi limit; heap 4G + page cache 4G in an 8Gi limit.
    PASS: ``maxmemory`` at 70% of the limit; heap 3G + page cache 3G in 8Gi.
    """
    service_views = views(ctx)
    for name, view in service_views.items():
        service = ctx.profile.services[name]
        limit = memory_bytes(service.resources.limits.memory)
        compose = view.compose.get("service") or {}
        resources = (compose.get("deploy") or {}).get("resources") or {}
        for kind, profile_side in (("limits", service.resources.limits), ("reservations", service.resources.requests)):
            amounts = resources.get(kind) or {}
            if "memory" in amounts and compose_bytes(amounts["memory"]) != memory_bytes(profile_side.memory):
                yield Problem(f"service {name}: compose {kind} memory {amounts['memory']} differs from {profile_side.memory}", view.compose["where"])
            if "cpus" in amounts and compose_cpu(amounts["cpus"]) != cpu_millis(profile_side.cpu):
                yield Problem(f"service {name}: compose {kind} cpus {amounts['cpus']} differs from {profile_side.cpu}", view.compose["where"])
        for obj, container, path in view.kube:
            k8s = container.get("resources") or {}
            for kind, profile_side in (("limits", service.resources.limits), ("requests", service.resources.requests)):
                amounts = k8s.get(kind) or {}
                if amounts.get("memory") and memory_bytes(str(amounts["memory"])) != memory_bytes(profile_side.memory):
                    yield Problem(f"service {name}: Kubernetes {kind} memory {amounts['memory']} differs from compose and the profile ({profile_side.memory})",
                                  obj.at(ctx, *path, "resources"), related=(view.compose["where"],) if view.compose else ())
                if amounts.get("cpu") and cpu_millis(str(amounts["cpu"])) != cpu_millis(profile_side.cpu):
                    yield Problem(f"service {name}: Kubernetes {kind} cpu {amounts['cpu']} differs from {profile_side.cpu}",
                                  obj.at(ctx, *path, "resources"), related=(view.compose["where"],) if view.compose else ())
        env = dict(service.env)
        if name == "neo4j":
            heap = jvm_bytes(env.get("NEO4J_server_memory_heap_max__size", "0"))
            cache = jvm_bytes(env.get("NEO4J_server_memory_pagecache_size", "0"))
            if heap is not None and cache is not None and heap + cache > 0.9 * limit:
                where = view.compose.get("where") or ctx.location("compose/docker-compose.yml")
                related = tuple(obj.at(ctx, *path, "env") for obj, _, path in view.kube)
                yield Problem(f"neo4j heap + page cache ({(heap + cache) / 2**30:.2f} GiB) exceeds 90% of its "
                              f"{service.resources.limits.memory} limit", where, related=related)
        options = env.get("NODE_OPTIONS", "")
        match = re.search(r"--max-old-space-size=(\d+)", options)
        if match and int(match.group(1)) * 2**20 > limit:
            yield Problem(f"service {name}: --max-old-space-size={match.group(1)}MiB exceeds its {service.resources.limits.memory} limit",
                          view.compose.get("where") or ctx.location("compose/docker-compose.yml"))
    conf = ctx.artefact("redis/redis.conf")
    if conf is not None and "redis" in ctx.profile.services:
        directives = {d.name: d for d in redisconf.parse(conf.text)}
        maxmemory = directives.get("maxmemory")
        if maxmemory is not None:
            value = redisconf.memory(maxmemory.arguments[0]) if maxmemory.arguments else None
            limit = memory_bytes(ctx.profile.services["redis"].resources.limits.memory)
            persists = any(d in directives for d in ("save",)) and directives["save"].arguments != ("",)
            persists = persists or (directives.get("appendonly") and directives["appendonly"].arguments[:1] == ("yes",))
            share = 0.75 if persists else 1.0
            if value is not None and value > share * limit:
                view = service_views["redis"]
                related = tuple(x for x in [view.compose.get("where")] + [o.at(ctx, *p, "resources") for o, _, p in view.kube] if x)
                yield Problem(f"redis maxmemory {value} is more than {share:.0%} of its {ctx.profile.services['redis'].resources.limits.memory} limit"
                              + (" while it persists (fork headroom)" if persists else ""), ctx.location(conf.path, maxmemory.line), related=related)
