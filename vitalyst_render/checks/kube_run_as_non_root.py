"""VR301: every container runs as a non-root uid and gid of at least 10000."""

from __future__ import annotations

from typing import Iterable

from ._support import pod_containers
from .base import Problem, Severity, check

MIN_ID = 10000


@check("VR301", "k8s-run-as-non-root", "container may run as root or as a low uid/gid", Severity.ERROR)
def run_as_non_root(ctx) -> Iterable[Problem]:
    """Every container, init containers included, has ``runAsNonRoot: true`` and a
    ``runAsUser`` and ``runAsGroup`` of at least 10000, set on the container or
    inherited from the pod's ``securityContext``. Low ids collide with host accounts.

    Remediation: set ``build.user`` (uid/gid ≥ 10000); the templates apply it to every pod.

    FAIL: a container without ``runAsNonRoot``, or ``runAsUser: 1000``.
    PASS: ``securityContext: {runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001}``.
    """
    for obj, pod, container, path in pod_containers(ctx):
        merged = {**(pod.get("securityContext") or {}), **(container.get("securityContext") or {})}
        who = f"{obj.label} container {container.get('name')!r}"
        if merged.get("runAsNonRoot") is not True:
            yield Problem(f"{who} does not set runAsNonRoot: true", obj.at(*path))
        for field in ("runAsUser", "runAsGroup"):
            value = merged.get(field)
            if not isinstance(value, int) or value < MIN_ID:
                yield Problem(f"{who} has {field} {value!r}; expected at least {MIN_ID}", obj.at(*path),
                              hint="set build.user.uid/gid to 10000 or more")
