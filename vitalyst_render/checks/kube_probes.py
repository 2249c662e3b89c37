"""VR308 and VR309: long-running containers are probed, on ports they expose."""

from __future__ import annotations

from collections.abc import Iterable

from .base import Problem, Severity, check
from .context import CheckContext
from .examples import ADD_DOCS, ADD_WORKER, Edit, Expect, Fail, Pass

PROBES = ("startupProbe", "readinessProbe", "livenessProbe")
LONG_RUNNING = {"Deployment", "StatefulSet", "DaemonSet"}
BACKEND = "kubernetes/backend.yaml"

STARTUP = """          startupProbe:
            httpGet:
              path: /health
              port: 8000
            periodSeconds: 5
            timeoutSeconds: 5
            failureThreshold: 11
"""
READINESS = """          readinessProbe:
            httpGet:
              path: /health
              port: 8000
            periodSeconds: 30
            timeoutSeconds: 5
            failureThreshold: 3
"""
LIVENESS_PORT = "          livenessProbe:\n            httpGet:\n              path: /health\n              port: 8000\n"

EXAMPLES_VR308 = (
    Fail(
        "a Deployment container without its startup and readiness probes",
        profile="staging",
        edits=[Edit(BACKEND, STARTUP, ""), Edit(BACKEND, READINESS, "")],
        expect=[
            Expect(BACKEND, "Deployment backend container 'backend' has no startupProbe"),
            Expect(BACKEND, "Deployment backend container 'backend' has no readinessProbe"),
        ],
    ),
    Fail(
        "an exporter sidecar without a liveness probe",
        profile="staging",
        edits=[Edit("kubernetes/redis.yaml", "          livenessProbe:\n            httpGet: {path: /health, port: metrics}\n            periodSeconds: 20\n", "")],
        expect=[Expect("kubernetes/redis.yaml", "StatefulSet redis container 'metrics' has no livenessProbe")],
    ),
    Pass("a worker added in the profile: its command health check becomes exec probes", overlay=ADD_WORKER),
)


@check("VR308", "k8s-probes", "long-running container lacks a startup, readiness or liveness probe", Severity.ERROR, examples=EXAMPLES_VR308)
def probes(ctx: CheckContext) -> Iterable[Problem]:
    """Every main container of a Deployment, StatefulSet or DaemonSet has a readiness
    probe (no traffic before it is ready) and a liveness probe (restart when stuck);
    the service's own container (named after the app its selector picks) also has a
    startup probe, so slow starts are not killed. Sidecars need readiness and
    liveness. Jobs, CronJobs and init containers are exempt.

    Remediation: set the service's ``health`` block; all three probes come from it.
    """
    for found in ctx.pods:
        obj, pod, prefix = found.obj, found.spec, found.path
        if obj.kind not in LONG_RUNNING:
            continue
        app = (((obj.spec.get("selector") or {}).get("matchLabels")) or {}).get("app.kubernetes.io/name")
        for index, container in enumerate(pod.get("containers") or []):
            if not isinstance(container, dict):
                continue
            wanted = PROBES if container.get("name") == app else PROBES[1:]
            for probe in wanted:
                if probe not in container:
                    yield Problem(f"{obj.label} container {container.get('name')!r} has no {probe}",
                                  obj.at(*prefix, "containers", index))


EXAMPLES_VR309 = (
    Fail(
        "a liveness probe on port 9000 of a container that exposes 8000",
        profile="staging",
        edits=[Edit(BACKEND, LIVENESS_PORT, LIVENESS_PORT.replace("port: 8000", "port: 9000"))],
        expect=[Expect(BACKEND, "Deployment backend container 'backend' livenessProbe targets port 9000, which it does not expose")],
    ),
    Fail(
        "probes that name a port the container does not declare",
        profile="staging",
        edits=[Edit("kubernetes/redis.yaml", "port: metrics}", "port: exporter}")],
        expect=[
            Expect("kubernetes/redis.yaml", "StatefulSet redis container 'metrics' readinessProbe targets port 'exporter', which it does not expose"),
            Expect("kubernetes/redis.yaml", "StatefulSet redis container 'metrics' livenessProbe targets port 'exporter', which it does not expose"),
        ],
    ),
    Pass(
        "probes that name the port (port: http) instead of its number",
        profile="staging",
        edits=[Edit(BACKEND, "              port: 8000\n", "              port: http\n")],
    ),
    Pass("an nginx added in the profile, probed on its own port 8080", overlay=ADD_DOCS),
)


@check("VR309", "k8s-probe-port", "probe targets a port the container does not expose", Severity.ERROR, examples=EXAMPLES_VR309)
def probe_port(ctx: CheckContext) -> Iterable[Problem]:
    """An ``httpGet`` or ``tcpSocket`` probe targets a port the same container declares
    (by number or by name). A probe on another port fails forever, or worse, passes
    because something else answers there.

    Remediation: ``health.port`` must be one of the service's ``ports`` (the profile
    refuses anything else, so a mismatch here comes from a template).
    """
    for found in ctx.containers:
        obj, container, path = found.obj, found.container, found.path
        ports = [p for p in container.get("ports") or [] if isinstance(p, dict)]
        exposed = {p.get("containerPort") for p in ports} | {p.get("name") for p in ports}
        for probe in PROBES:
            action = container.get(probe) or {}
            for kind in ("httpGet", "tcpSocket", "grpc"):
                port = (action.get(kind) or {}).get("port")
                if port is not None and port not in exposed:
                    yield Problem(f"{obj.label} container {container.get('name')!r} {probe} targets port {port!r}, "
                                  f"which it does not expose", obj.at(*path, probe))
