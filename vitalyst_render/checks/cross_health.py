"""VR601: one health definition, rendered the same way everywhere."""

from __future__ import annotations

from collections.abc import Iterable

from ..plan import Probe, ServicePlan
from ._cross import RenderedProbe, compose_probe, dockerfile_probe, kube_probes
from .base import Problem, Severity, check
from .context import CheckContext


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


@check("VR601", "cross-health-parity", "health checks disagree between Dockerfile, compose and Kubernetes", Severity.ERROR)
def health_parity(ctx: CheckContext) -> Iterable[Problem]:
    """A service's one ``health`` block drives the Dockerfile ``HEALTHCHECK``, the compose
    ``healthcheck`` and the Kubernetes startup, readiness and liveness probes. Each of
    them runs the planned probe: the same command (read as the exec vector, never out
    of a command line), port, path, interval, timeout and retry count; the startup
    probe allows the start period. Otherwise one platform marks healthy what another
    kills. Findings point at the artefact and at the profile's health block.

    Remediation: edit the profile's ``health`` block, never one artefact.

    FAIL: HEALTHCHECK probing port 8000 every 30s while the readiness probe hits 8080 every 10s.
    PASS: the same port, path and timings in all three.
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
