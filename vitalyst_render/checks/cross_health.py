"""VR601: one health definition, rendered the same way everywhere."""

from __future__ import annotations

from collections.abc import Iterable

from ..plan import Probe, ServicePlan
from ._cross import RenderedProbe, compose_probe, dockerfile_probe, kube_probes
from .base import Problem, Severity, check
from .context import CheckContext
from .examples import ADD_CACHE, ADD_DOCS, ADD_WORKER, Edit, Expect, Fail, Pass

COMPOSE = "compose/docker-compose.yml"
_READINESS = "          readinessProbe:\n            httpGet:\n              path: /health\n              port: 8000\n            periodSeconds: 30\n"
_PYTHON_PROBE = ("python -c import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:{}/health', "
                 "timeout=5).status < 400 else 1)")
_COMPOSE_PYTHON_PROBE = ('[CMD, python, "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('
                         "'http://127.0.0.1:8000/health', timeout=5).status < 400 else 1)\"]")
_CACHE_PROBE = ("sh -c redis-cli --no-auth-warning --user healthcheck --askpass ping < /run/secrets/{}-health-password "
                "| grep -q PONG")

EXAMPLES = (
    Fail("a readiness probe on another port and interval than the health block", profile="staging",
         edits=[Edit("kubernetes/backend.yaml", _READINESS, _READINESS.replace("8000", "8080").replace("30", "10"))],
         expect=[Expect("kubernetes/backend.yaml", "service backend: Deployment backend readinessProbe port is 8080 but its health block says 8000"),
                 Expect("kubernetes/backend.yaml", "service backend: Deployment backend readinessProbe interval is 10 but its health block says 30")]),
    Fail("a compose healthcheck that runs curl instead of the planned probe",
         edits=[Edit(COMPOSE, _COMPOSE_PYTHON_PROBE, '[CMD, curl, "-f", "http://localhost:8000/health"]')],
         expect=[Expect(COMPOSE, f"service backend: compose healthcheck argv is {'curl -f http://localhost:8000/health'!r} "
                                 f"but its health block says {_PYTHON_PROBE.format(8000)!r}")]),
    Fail("a Dockerfile HEALTHCHECK that probes another port", profile="dev",
         edits=[Edit("docker/backend/Dockerfile", "127.0.0.1:8000/health", "127.0.0.1:8080/health")],
         expect=[Expect("docker/backend/Dockerfile", f"service backend: Dockerfile HEALTHCHECK argv is {_PYTHON_PROBE.format(8080)!r} "
                                                     f"but its health block says {_PYTHON_PROBE.format(8000)!r}")]),
    Fail("a worker added in the profile whose probes run at another interval, in both colours", overlay=ADD_WORKER,
         edits=[Edit("kubernetes/worker.yaml", "periodSeconds: 30", "periodSeconds: 10")],
         expect=[Expect("kubernetes/worker.yaml", f"service worker: Deployment worker-{colour} {probe} interval is 10 but its health block says 30")
                 for colour in ("blue", "green") for probe in ("readinessProbe", "livenessProbe")]),
    Fail("an nginx added in the profile whose startup probe ignores its start period", overlay=ADD_DOCS,
         edits=[Edit("kubernetes/docs.yaml", "failureThreshold: 6", "failureThreshold: 5")],
         expect=[Expect("kubernetes/docs.yaml", "service docs: Deployment docs startupProbe allows 5 failures, but the start period and retries need 6")]),
    Fail("a second Redis whose compose healthcheck reads the first one's password", overlay=ADD_CACHE,
         edits=[Edit(COMPOSE, "< /run/secrets/cache-health-password", "< /run/secrets/redis-health-password")],
         expect=[Expect(COMPOSE, f"service cache: compose healthcheck argv is {_CACHE_PROBE.format('redis')!r} "
                                 f"but its health block says {_CACHE_PROBE.format('cache')!r}")]),
    Pass("neo4j with a custom health path: every artefact probes that path",
         overlay="services:\n  neo4j:\n    health:\n      path: /db/neo4j/cluster/available\n"),
    Pass("a worker added in the profile with a command health check on the backend's image", overlay=ADD_WORKER),
    Pass("a second Redis added in the profile, probed with its own healthcheck password", overlay=ADD_CACHE),
)


def _differences(rendered: RenderedProbe, planned: Probe, fields: tuple[str, ...]) -> Iterable[tuple[str, object, object]]:
    wanted = {
        "argv": planned.argv,
        "port": planned.port,
        "path": planned.path,
        "interval": planned.interval_seconds,
        "timeout": planned.timeout_seconds,
        "retries": planned.retries,
        "start_period": planned.start_period_seconds,
    }
    for name in fields:
        actual = getattr(rendered, name)
        if actual is not None and actual != wanted[name]:
            yield name, actual, wanted[name]


def _problems(ctx: CheckContext, service: ServicePlan, rendered: RenderedProbe, fields: tuple[str, ...]) -> Iterable[Problem]:
    for name, actual, wanted in _differences(rendered, service.probe, fields):
        shown = " ".join(actual) if isinstance(actual, tuple) else actual
        expected = " ".join(wanted) if isinstance(wanted, tuple) else wanted
        yield Problem(f"service {service.name}: {rendered.label} {name} is {shown!r} but its health block says {expected!r}",
                      rendered.where, related=(ctx.in_profile("services", service.name, "health"),))


@check("VR601", "cross-health-parity", "health checks disagree between Dockerfile, compose and Kubernetes", Severity.ERROR,
       examples=EXAMPLES)
def health_parity(ctx: CheckContext) -> Iterable[Problem]:
    """A service's one ``health`` block drives the Dockerfile ``HEALTHCHECK``, the compose
    ``healthcheck`` and the Kubernetes startup, readiness and liveness probes. Each of
    them runs the planned probe: the same command (read as the exec vector, never out
    of a command line), port, path, interval, timeout and retry count; the startup
    probe allows the start period. Otherwise one platform marks healthy what another
    kills. Findings point at the artefact and at the profile's health block.

    Remediation: edit the profile's ``health`` block, never one artefact.
    """
    for service in ctx.plan.services.values():
        every = ("argv", "interval", "timeout", "retries", "start_period")
        docker = dockerfile_probe(ctx, service)
        if docker is not None:
            yield from _problems(ctx, service, docker, every)
        compose = compose_probe(ctx, service.name)
        if compose is not None:
            yield from _problems(ctx, service, compose, every)
        for field, probe in kube_probes(ctx, service):
            action = ("argv",) if service.probe.kind == "command" else ("port", "path")
            if field == "startupProbe":
                if probe.retries is not None and probe.retries != service.probe.startup_failures:
                    yield Problem(f"service {service.name}: {probe.label} allows {probe.retries} failures, but the start "
                                  f"period and retries need {service.probe.startup_failures}", probe.where,
                                  related=(ctx.in_profile("services", service.name, "health"),))
                yield from _problems(ctx, service, probe, action + ("timeout",))
            else:
                yield from _problems(ctx, service, probe, action + ("interval", "timeout", "retries"))
