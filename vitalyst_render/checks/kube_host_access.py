"""VR306: no pod shares the host's namespaces, paths or ports."""

from __future__ import annotations

from typing import Iterable

from ._support import containers, pods
from .base import Problem, Severity, check


@check("VR306", "k8s-host-access", "pod uses host namespaces, hostPath or hostPort", Severity.ERROR)
def host_access(ctx) -> Iterable[Problem]:
    """No ``hostNetwork``, ``hostPID``, ``hostIPC``, ``hostPath`` volume or ``hostPort``:
    each hands a container a piece of the node.

    Remediation: use Services for traffic and PersistentVolumeClaims for data.

    FAIL: ``hostNetwork: true`` or ``volumes: [{hostPath: {path: /var/run}}]``.
    PASS: a pod with only emptyDir, configMap, secret and PVC volumes.
    """
    for obj, pod, prefix in pods(ctx):
        for field in ("hostNetwork", "hostPID", "hostIPC"):
            if pod.get(field) is True:
                yield Problem(f"{obj.label} sets {field}: true", obj.at(*prefix, field))
        for index, volume in enumerate(pod.get("volumes") or []):
            if isinstance(volume, dict) and "hostPath" in volume:
                yield Problem(f"{obj.label} mounts hostPath {volume['hostPath'].get('path')!r}", obj.at(*prefix, "volumes", index))
        for container, path in containers(pod, prefix):
            for index, port in enumerate(container.get("ports") or []):
                if isinstance(port, dict) and port.get("hostPort"):
                    yield Problem(f"{obj.label} container {container.get('name')!r} binds hostPort {port['hostPort']}",
                                  obj.at(*path, "ports", index))
