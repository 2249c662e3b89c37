"""VR601: one health definition, rendered the same way everywhere."""

from __future__ import annotations

from typing import Iterable

from ._cross import compose_health, kube_health, views
from .base import Problem, Severity, check

FIELDS = ("interval", "timeout", "retries", "start_period", "port", "path")


def _compare(first, second, fields, label_a: str, label_b: str, service: str) -> Iterable[Problem]:  # noqa: ANN001
    for name in fields:
        a, b = getattr(first, name), getattr(second, name)
        if a is not None and b is not None and a != b:
            yield Problem(f"service {service}: {label_a} {name} is {a!r} but {label_b} says {b!r}", first.where, related=(second.where,))


@check("VR601", "cross-health-parity", "health checks disagree between Dockerfile, compose and Kubernetes", Severity.ERROR)
def health_parity(ctx) -> Iterable[Problem]:
    """The service's one ``health`` block drives the Dockerfile ``HEALTHCHECK``, the
    compose ``healthcheck`` and the Kubernetes readiness and liveness probes. Their
    port, path, interval, timeout and retry count agree; otherwise one platform marks
    healthy what another kills. Findings point at both places.

    Remediation: edit the profile's ``health`` block, never one artefact.

    FAIL: HEALTHCHECK probing port 8000 every 30s while the readiness probe hits 8080 every 10s.
    PASS: the same port, path and timings in all three.
    """
    for name, view in views(ctx).items():
        docker = view.dockerfile.get("health")
        compose = compose_health(view) if view.compose else None
        if docker and compose:
            yield from _compare(docker, compose, FIELDS, "Dockerfile HEALTHCHECK", "compose healthcheck", name)
        for obj, container, path in view.kube:
            for probe in ("readinessProbe", "livenessProbe"):
                kube = kube_health(ctx, obj, container, path, probe)
                reference = compose or docker
                if kube and reference:
                    label = "compose healthcheck" if compose else "Dockerfile HEALTHCHECK"
                    yield from _compare(kube, reference, ("interval", "timeout", "retries", "port", "path"), f"Kubernetes {probe}", label, name)
