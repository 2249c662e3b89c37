"""VR308 and VR309: long-running containers are probed, on ports they expose."""

from __future__ import annotations

from typing import Iterable

from ._support import pod_containers, pods
from .base import Problem, Severity, check

PROBES = ("startupProbe", "readinessProbe", "livenessProbe")
LONG_RUNNING = {"Deployment", "StatefulSet", "DaemonSet"}


@check("VR308", "k8s-probes", "long-running container lacks a startup, readiness or liveness probe", Severity.ERROR)
def probes(ctx) -> Iterable[Problem]:
    """Every main container of a Deployment, StatefulSet or DaemonSet has a readiness
    probe (no traffic before it is ready) and a liveness probe (restart when stuck);
    the service's own container also has a startup probe, so slow starts are not
    killed. Sidecars need readiness and liveness. Jobs and init containers are exempt.

    Remediation: set the service's ``health`` block; all three probes come from it.

    FAIL: a Deployment container with no ``readinessProbe``.
    PASS: startup, readiness and liveness probes from the same health block.
    """
    for obj, pod, prefix in pods(ctx):
        if obj.kind not in LONG_RUNNING:
            continue
        app = (((obj.document.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}).get("app.kubernetes.io/name")
        for index, container in enumerate(pod.get("containers") or []):
            wanted = PROBES if container.get("name") == app else PROBES[1:]
            for probe in wanted:
                if probe not in container:
                    yield Problem(f"{obj.label} container {container.get('name')!r} has no {probe}",
                                  obj.at(*prefix, "containers", index))


@check("VR309", "k8s-probe-port", "probe targets a port the container does not expose", Severity.ERROR)
def probe_port(ctx) -> Iterable[Problem]:
    """An ``httpGet`` or ``tcpSocket`` probe targets a port the same container declares
    (by number or by name). A probe on another port fails forever, or worse, passes
    because something else answers there.

    Remediation: ``health.port`` must be one of the service's ``ports``.

    FAIL: ``containerPort: 8000`` with ``readinessProbe: {httpGet: {port: 9000}}``.
    PASS: probe port equal to a ``containerPort`` or its name.
    """
    for obj, _, container, path in pod_containers(ctx):
        ports = [p for p in container.get("ports") or [] if isinstance(p, dict)]
        exposed = {p.get("containerPort") for p in ports} | {p.get("name") for p in ports}
        for probe in PROBES:
            action = container.get(probe) or {}
            for kind in ("httpGet", "tcpSocket", "grpc"):
                port = (action.get(kind) or {}).get("port")
                if port is not None and port not in exposed:
                    yield Problem(f"{obj.label} container {container.get('name')!r} {probe} targets port {port!r}, "
                                  f"which it does not expose", obj.at(*path, probe))
