"""VR306: no pod shares the host's namespaces, paths or ports."""

from __future__ import annotations

from collections.abc import Iterable

from .base import Problem, Severity, check
from ..kube import containers_of
from .context import CheckContext
from .examples import Edit, Expect, Fail, Pass

BACKEND = "kubernetes/backend.yaml"

EXAMPLES = (
    Fail(
        "a pod on the host network that mounts the Docker socket and binds a hostPort",
        profile="staging",
        edits=[
            Edit(BACKEND, "      enableServiceLinks: false\n", "      enableServiceLinks: false\n      hostNetwork: true\n"),
            Edit(BACKEND, "      volumes:\n", "      volumes:\n        - name: docker\n          hostPath:\n            path: /var/run/docker.sock\n"),
            Edit(BACKEND, "              containerPort: 8000\n", "              containerPort: 8000\n              hostPort: 8000\n"),
        ],
        expect=[
            Expect(BACKEND, "Deployment backend sets hostNetwork: true"),
            Expect(BACKEND, "Deployment backend mounts hostPath '/var/run/docker.sock'"),
            Expect(BACKEND, "Deployment backend container 'backend' binds hostPort 8000"),
        ],
    ),
    Fail(
        "a pod that shares the host's process and IPC namespaces",
        profile="staging",
        edits=[Edit(BACKEND, "      enableServiceLinks: false\n", "      enableServiceLinks: false\n      hostPID: true\n      hostIPC: true\n")],
        expect=[Expect(BACKEND, "Deployment backend sets hostPID: true"), Expect(BACKEND, "Deployment backend sets hostIPC: true")],
    ),
    Pass(
        "hostNetwork, hostPID and hostIPC spelled out as false",
        profile="staging",
        edits=[Edit(BACKEND, "      enableServiceLinks: false\n",
                    "      enableServiceLinks: false\n      hostNetwork: false\n      hostPID: false\n      hostIPC: false\n")],
    ),
)


@check("VR306", "k8s-host-access", "pod uses host namespaces, hostPath or hostPort", Severity.ERROR, examples=EXAMPLES)
def host_access(ctx: CheckContext) -> Iterable[Problem]:
    """No ``hostNetwork``, ``hostPID``, ``hostIPC``, ``hostPath`` volume or ``hostPort``:
    each hands a container a piece of the node.

    Remediation: use Services for traffic and PersistentVolumeClaims for data.
    """
    for found in ctx.pods:
        obj, pod, prefix = found.obj, found.spec, found.path
        for field in ("hostNetwork", "hostPID", "hostIPC"):
            if pod.get(field) is True:
                yield Problem(f"{obj.label} sets {field}: true", obj.at(*prefix, field))
        for index, volume in enumerate(pod.get("volumes") or []):
            if isinstance(volume, dict) and "hostPath" in volume:
                yield Problem(f"{obj.label} mounts hostPath {(volume['hostPath'] or {}).get('path')!r}", obj.at(*prefix, "volumes", index))
        for container, path in containers_of(pod, prefix):
            for index, port in enumerate(container.get("ports") or []):
                if isinstance(port, dict) and port.get("hostPort"):
                    yield Problem(f"{obj.label} container {container.get('name')!r} binds hostPort {port['hostPort']}",
                                  obj.at(*path, "ports", index))
