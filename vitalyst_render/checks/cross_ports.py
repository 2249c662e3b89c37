"""VR602: one port per purpose, the same in every artefact."""

from __future__ import annotations

import re
from typing import Iterable

from ._cross import views
from ._support import in_profile, kube_objects
from .base import Problem, Severity, check


def _scrape_ports(ctx) -> dict[str, tuple[int, object]]:  # noqa: ANN001
    """Scrape job → (port, location) from prometheus.yml."""
    artefact = ctx.artefact("prometheus/prometheus.yml")
    found: dict[str, tuple[int, object]] = {}
    if artefact is None:
        return found
    for index, job in enumerate(artefact.data.get("scrape_configs") or []):
        port = None
        for relabel in job.get("relabel_configs") or []:
            if relabel.get("source_labels") == ["__meta_kubernetes_pod_container_port_number"]:
                port = int(relabel.get("regex")) if str(relabel.get("regex", "")).isdigit() else None
        for sd in job.get("dns_sd_configs") or []:
            port = sd.get("port", port)
        if port is not None:
            loc = artefact.positions.value(("scrape_configs", index))
            found[job.get("job_name")] = (port, ctx.location(artefact.path, loc.line, loc.col))
    return found


@check("VR602", "cross-port-parity", "a service's ports disagree between artefacts", Severity.ERROR)
def port_parity(ctx) -> Iterable[Problem]:
    """A service's ports are the same everywhere: Dockerfile ``EXPOSE`` equals the
    container's ``containerPort`` list; the Kubernetes Service's target ports, the
    NetworkPolicy ports that admit traffic to the service, and the compose published
    ports are among them; Prometheus scrapes the service's metrics port, which a
    container of the pod exposes.

    Remediation: change ``services.<name>.ports`` or ``metrics.port`` in the profile.

    FAIL: ``EXPOSE 8000`` with ``containerPort: 8080``; a scrape job on 9100 when the exporter listens on 9121.
    PASS: 8000 everywhere for the backend, 9121 for the Redis exporter.
    """
    service_views = views(ctx)
    scrape = _scrape_ports(ctx)
    objects = list(kube_objects(ctx))
    for name, view in service_views.items():
        service = ctx.profile.services[name]
        declared = {p.port for p in service.ports}
        expose = view.dockerfile.get("expose")
        if expose is not None and expose != declared:
            yield Problem(f"service {name}: EXPOSE {sorted(expose)} but the profile's ports are {sorted(declared)}", view.dockerfile["where"])
        pod_ports: set[int] = set()
        for obj, container, path in view.kube:
            ports = {p.get("containerPort") for p in container.get("ports") or []}
            if ports != declared:
                yield Problem(f"service {name}: containerPorts {sorted(ports)} but the profile's ports are {sorted(declared)}",
                              obj.at(ctx, *path, "ports"), related=(view.dockerfile.get("where") or view.compose.get("where"),) if view.dockerfile or view.compose else ())
            for other in (obj.document["spec"]["template"]["spec"].get("containers") or []):
                pod_ports |= {p.get("containerPort") for p in other.get("ports") or []}
        compose = view.compose.get("service") or {}
        for port in compose.get("ports") or []:
            target = port.get("target") if isinstance(port, dict) else int(re.split(r"[:/]", str(port))[-2])
            if target not in declared:
                yield Problem(f"service {name}: compose publishes container port {target}, which the service does not listen on",
                              view.compose["where"])
        if service.metrics is not None and name in scrape:
            port, location = scrape[name]
            if port != service.metrics.port:
                yield Problem(f"service {name}: Prometheus scrapes port {port} but metrics are on {service.metrics.port}", location,
                              related=(in_profile(ctx, "services", name, "metrics", "port"),))
            if pod_ports and port not in pod_ports:
                yield Problem(f"service {name}: Prometheus scrapes port {port}, which no container of the pod exposes", location)
        for obj in objects:
            spec = obj.document.get("spec") or {}
            if obj.kind == "Service" and (spec.get("selector") or {}).get("app.kubernetes.io/name") == name:
                for index, port in enumerate(spec.get("ports") or []):
                    target = port.get("targetPort")
                    names = {p.name: p.port for p in service.ports}
                    number = names.get(target, target)
                    if number not in declared:
                        yield Problem(f"Service {obj.name} targets port {target!r}, not one of {sorted(declared)}", obj.at(ctx, "spec", "ports", index))
            if obj.kind == "NetworkPolicy" and ((spec.get("podSelector") or {}).get("matchLabels") or {}).get("app.kubernetes.io/name") == name:
                allowed = declared | ({service.metrics.port} if service.metrics else set())
                for r, rule in enumerate(spec.get("ingress") or []):
                    for p, port in enumerate(rule.get("ports") or []):
                        if port.get("port") not in allowed:
                            yield Problem(f"NetworkPolicy {obj.name} admits port {port.get('port')}, which {name} does not serve",
                                          obj.at(ctx, "spec", "ingress", r, "ports", p))
