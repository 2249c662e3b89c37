"""VR312: every container has CPU and memory requests and limits."""

from __future__ import annotations

from typing import Iterable

from ._support import pod_containers
from .base import Problem, Severity, check


@check("VR312", "k8s-resources", "container lacks a CPU or memory request or limit", Severity.ERROR)
def resources(ctx) -> Iterable[Problem]:
    """Every container, init containers included, sets requests and limits for both
    CPU and memory. Without a memory limit one leak takes the node down; without
    requests the scheduler packs blindly.

    Remediation: set ``services.<name>.resources``; the same values reach compose.

    FAIL: a container with ``resources: {}``.
    PASS: ``requests: {cpu: 500m, memory: 1Gi}``, ``limits: {cpu: "2", memory: 4Gi}``.
    """
    for obj, _, container, path in pod_containers(ctx):
        amounts = container.get("resources") or {}
        for kind in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                if resource not in (amounts.get(kind) or {}):
                    yield Problem(f"{obj.label} container {container.get('name')!r} has no {resource} {kind[:-1]}",
                                  obj.at(*path), hint=f"set services.<name>.resources.{kind}.{resource}")
