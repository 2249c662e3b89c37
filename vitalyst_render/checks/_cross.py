"""Views across artefacts for the VR6xx checks: one service as each artefact sees it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import Location
from ._support import KubeObject, kube_objects, pod_labels, pod_template, where

_URL = re.compile(r"127\.0\.0\.1[:/](\d+)(/[A-Za-z0-9._~/-]*)?")


@dataclass
class Health:
    """One health definition as an artefact renders it; seconds and counts."""

    where: Location
    interval: float | None = None
    timeout: float | None = None
    retries: int | None = None
    start_period: float | None = None
    port: int | None = None
    path: str | None = None


@dataclass
class ServiceView:
    name: str
    dockerfile: dict[str, Any] = field(default_factory=dict)  # health, expose, location
    compose: dict[str, Any] = field(default_factory=dict)  # the service mapping, location
    kube: list[tuple[KubeObject, dict, tuple]] = field(default_factory=list)  # (workload, main container, path)


def seconds(value: Any) -> float | None:
    from ..profile.types import duration_seconds

    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and re.fullmatch(r"([0-9]+(ms|s|m|h))+", value):
        return duration_seconds(value)
    return None


def url_target(text: str) -> tuple[int | None, str | None]:
    match = _URL.search(text or "")
    if not match:
        return None, None
    return int(match.group(1)), match.group(2) or "/"


def views(ctx) -> dict[str, ServiceView]:  # noqa: ANN001
    result = {name: ServiceView(name) for name in ctx.profile.services}
    for artefact in ctx.parsed("dockerfile"):
        name = artefact.path.split("/")[1]
        final = artefact.data.final
        if name not in result or final is None:
            continue
        probe = final.last("HEALTHCHECK")
        expose = {int(w.split("/")[0]) for e in final.all("EXPOSE") for w in e.arguments.split() if w.split("/")[0].isdigit()}
        view = result[name]
        view.dockerfile = {"expose": expose, "where": ctx.location(artefact.path, final.line, 1), "from": artefact.data.image_of(final)}
        if probe is not None:
            flags, rest = probe.flags_and_rest()
            port, path = url_target(rest)
            view.dockerfile["health"] = Health(
                ctx.location(artefact.path, probe.line, 1), seconds(flags.get("interval")), seconds(flags.get("timeout")),
                int(flags["retries"]) if flags.get("retries", "").isdigit() else None, seconds(flags.get("start-period")), port, path,
            )
    compose = ctx.artefact("compose/docker-compose.yml")
    if compose is not None and isinstance(compose.data, dict):
        for name, service in (compose.data.get("services") or {}).items():
            if name in result and isinstance(service, dict):
                result[name].compose = {"service": service, "where": where(ctx, compose, "services", name), "artefact": compose}
    for obj in kube_objects(ctx):
        found = pod_template(obj)
        if found is None or obj.kind not in ("Deployment", "StatefulSet"):
            continue
        pod, prefix = found
        app = pod_labels(obj).get("app.kubernetes.io/name")
        if app not in result:
            continue
        for index, container in enumerate(pod.get("containers") or []):
            if container.get("name") == app:
                result[app].kube.append((obj, container, prefix + ("containers", index)))
    return result


def compose_health(view: ServiceView) -> Health | None:
    service = view.compose.get("service") or {}
    health = service.get("healthcheck")
    if not isinstance(health, dict):
        return None
    port, path = url_target(" ".join(str(t) for t in health.get("test") or []))
    retries = health.get("retries")
    return Health(view.compose["where"], seconds(health.get("interval")), seconds(health.get("timeout")),
                  retries if isinstance(retries, int) else None, seconds(health.get("start_period")), port, path)


def kube_health(ctx, obj: KubeObject, container: dict, path: tuple, probe: str = "readinessProbe") -> Health | None:  # noqa: ANN001
    spec = container.get(probe)
    if not isinstance(spec, dict):
        return None
    http = spec.get("httpGet") or {}
    port = http.get("port") if isinstance(http.get("port"), int) else (spec.get("tcpSocket") or {}).get("port")
    return Health(obj.at(ctx, *path, probe), spec.get("periodSeconds"), spec.get("timeoutSeconds"), spec.get("failureThreshold"),
                  None, port if isinstance(port, int) else None, http.get("path"))
