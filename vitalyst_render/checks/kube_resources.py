"""VR312: every container has CPU and memory requests and limits."""

from __future__ import annotations

from collections.abc import Iterable

from .base import Problem, Severity, check
from .context import CheckContext
from .examples import ADD_WORKER, Edit, Expect, Fail, Pass

EXAMPLES = (
    Fail(
        "a Deployment whose container lost its memory limit",
        profile="staging",
        edits=[Edit("kubernetes/backend.yaml", '            limits:\n              cpu: "2"\n              memory: "4Gi"\n',
                    '            limits:\n              cpu: "2"\n')],
        expect=[Expect("kubernetes/backend.yaml", "Deployment backend container 'backend' has no memory limit")],
    ),
    Pass("a worker added in the profile: its resources reach its container", overlay=ADD_WORKER),
)


@check("VR312", "k8s-resources", "container lacks a CPU or memory request or limit", Severity.ERROR, examples=EXAMPLES)
def resources(ctx: CheckContext) -> Iterable[Problem]:
    """Every container, init containers and sidecars included, sets requests and limits
    for both CPU and memory. Without a memory limit one leak takes the node down;
    without requests the scheduler packs blindly.

    Remediation: set ``services.<name>.resources``; the same values reach compose.
    """
    for found in ctx.containers:
        obj, container, path = found.obj, found.container, found.path
        amounts = container.get("resources") or {}
        for kind in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                if resource not in (amounts.get(kind) or {}):
                    yield Problem(f"{obj.label} container {container.get('name')!r} has no {resource} {kind[:-1]}",
                                  obj.at(*path), hint=f"set services.<name>.resources.{kind}.{resource}")
