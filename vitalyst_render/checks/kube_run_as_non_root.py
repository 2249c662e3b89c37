"""VR301: every container runs as a non-root uid and gid of at least 10000."""

from __future__ import annotations

from collections.abc import Iterable

from .base import Problem, Severity, check
from .context import CheckContext
from .examples import ADD_DOCS, Edit, Expect, Fail, Pass

MIN_ID = 10000
BACKEND = "kubernetes/backend.yaml"

EXAMPLES = (
    Fail(
        "a pod that runs as uid 1000, the usual first account of a base image",
        profile="staging",
        edits=[Edit(BACKEND, "runAsUser: 10001", "runAsUser: 1000")],
        expect=[Expect(BACKEND, "Deployment backend container 'backend' has runAsUser 1000; expected at least 10000")],
    ),
    Fail(
        "a pod whose pod and container securityContext both lost runAsNonRoot",
        profile="staging",
        edits=[Edit(BACKEND, "\n            runAsNonRoot: true\n", "\n"), Edit(BACKEND, "\n        runAsNonRoot: true\n", "\n")],
        expect=[Expect(BACKEND, "Deployment backend container 'backend' does not set runAsNonRoot: true")],
    ),
    Pass(
        "a container that sets no ids of its own inherits them from the pod's securityContext",
        profile="staging",
        edits=[Edit(BACKEND, "            runAsNonRoot: true\n            runAsUser: 10001\n            runAsGroup: 10001\n", "")],
    ),
    Pass("an upstream nginx whose image user is uid 101 still runs as build.user on Kubernetes", overlay=ADD_DOCS),
)


@check("VR301", "k8s-run-as-non-root", "container may run as root or as a low uid/gid", Severity.ERROR, examples=EXAMPLES)
def run_as_non_root(ctx: CheckContext) -> Iterable[Problem]:
    """Every container, init containers included, has ``runAsNonRoot: true`` and a
    ``runAsUser`` and ``runAsGroup`` of at least 10000, set on the container or
    inherited from the pod's ``securityContext``. Low ids collide with host accounts.

    Remediation: set ``build.user`` (uid/gid ≥ 10000); the templates apply it to every pod.
    """
    for found in ctx.containers:
        obj, container, path = found.obj, found.container, found.path
        merged = {**(found.pod.get("securityContext") or {}), **(container.get("securityContext") or {})}
        who = f"{obj.label} container {container.get('name')!r}"
        if merged.get("runAsNonRoot") is not True:
            yield Problem(f"{who} does not set runAsNonRoot: true", obj.at(*path))
        for field in ("runAsUser", "runAsGroup"):
            value = merged.get(field)
            if not isinstance(value, int) or value < MIN_ID:
                yield Problem(f"{who} has {field} {value!r}; expected at least {MIN_ID}", obj.at(*path),
                              hint="set build.user.uid/gid to 10000 or more")
