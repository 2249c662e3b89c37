"""VR602: one port per purpose, the same in every artefact."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import partial

from ..artefacts import Artefact
from ..errors import Location
from ._cross import compose_service, final_stage, kube_containers
from .base import Problem, Severity, check
from .context import CheckContext
from .examples import ADD_CACHE, ADD_DOCS, ADD_WORKER, Edit, Expect, Fail, Pass

PROMETHEUS = "prometheus/prometheus.yml"
_CACHE_JOB = "regex: cache\n        action: keep\n      - source_labels: [__meta_kubernetes_pod_container_port_number]\n        regex: "

EXAMPLES = (
    Fail("a container port that is not the profile's: Prometheus scrapes a port nothing exposes", profile="staging",
         edits=[Edit("kubernetes/backend.yaml", "containerPort: 8000", "containerPort: 8080")],
         expect=[Expect("kubernetes/backend.yaml", "service backend: containerPorts [8080] but the profile's ports are [8000]"),
                 Expect(PROMETHEUS, "service backend: Prometheus scrapes port 8000, which no container of the pod exposes")]),
    Fail("a scrape job on 9100 when the Redis exporter listens on 9121", profile="staging",
         edits=[Edit(PROMETHEUS, 'regex: "9121"', 'regex: "9100"')],
         expect=[Expect(PROMETHEUS, "service redis: Prometheus scrapes port 9100 but metrics are on 9121"),
                 Expect(PROMETHEUS, "service redis: Prometheus scrapes port 9100, which no container of the pod exposes")]),
    Fail("a Dockerfile that EXPOSEs another port than the profile's", profile="dev",
         edits=[Edit("docker/backend/Dockerfile", "EXPOSE 8000", "EXPOSE 8080")],
         expect=[Expect("docker/backend/Dockerfile", "service backend: EXPOSE [8080] but the profile's ports are [8000]")]),
    Fail("a NetworkPolicy that admits Prometheus on a port the service does not serve", profile="staging",
         edits=[Edit("kubernetes/networkpolicy.yaml", "          port: 9121", "          port: 9100")],
         expect=[Expect("kubernetes/networkpolicy.yaml", "NetworkPolicy redis-ingress admits port 9100, which redis does not serve")]),
    Fail("compose publishing a container port the service does not listen on",
         edits=[Edit("compose/docker-compose.yml", "target: 3000", "target: 8080")],
         expect=[Expect("compose/docker-compose.yml",
                        "service frontend: compose publishes container port 8080, which the service does not listen on")]),
    Fail("a Kubernetes Service whose targetPort is not one of the service's ports", profile="staging",
         edits=[Edit("kubernetes/backend.yaml", "targetPort: http", "targetPort: 8080")],
         expect=[Expect("kubernetes/backend.yaml", "Service backend targets port 8080, not one of [8000]")]),
    Fail("an nginx added in the profile whose container port drifted", overlay=ADD_DOCS,
         edits=[Edit("kubernetes/docs.yaml", "containerPort: 8080", "containerPort: 80")],
         expect=[Expect("kubernetes/docs.yaml", "service docs: containerPorts [80] but the profile's ports are [8080]")]),
    Fail("a second Redis scraped on its server port instead of its exporter's", overlay=ADD_CACHE,
         edits=[Edit(PROMETHEUS, _CACHE_JOB + '"9121"', _CACHE_JOB + '"6379"')],
         expect=[Expect(PROMETHEUS, "service cache: Prometheus scrapes port 6379 but metrics are on 9121")]),
    Pass("a worker on the backend's image without ports: the image's EXPOSE is the backend's", overlay=ADD_WORKER),
    Pass("a second Redis added in the profile, with its own exporter on 9121", overlay=ADD_CACHE),
)


def _scrape_ports(ctx: CheckContext) -> list[tuple[str, dict[str, tuple[int, Callable[[], Location]]]]]:
    """Per platform's prometheus.yml: (platform, scrape job → (port, how to find the job for a finding))."""
    return [(files.plan.platform, _ports_of(ctx, files.config)) for files in ctx.monitoring if files.config is not None]


def _ports_of(ctx: CheckContext, artefact: Artefact) -> dict[str, tuple[int, Callable[[], Location]]]:
    found: dict[str, tuple[int, Callable[[], Location]]] = {}
    if not isinstance(artefact.data, dict):
        return found
    for index, job in enumerate(artefact.data.get("scrape_configs") or []):
        port = None
        for relabel in job.get("relabel_configs") or []:
            if relabel.get("source_labels") == ["__meta_kubernetes_pod_container_port_number"]:
                port = int(relabel["regex"]) if str(relabel.get("regex", "")).isdigit() else None
        for sd in job.get("dns_sd_configs") or []:
            port = sd.get("port", port)
        if port is not None:
            found[str(job.get("job_name"))] = (port, partial(ctx.where, artefact, "scrape_configs", index))
    return found


@check("VR602", "cross-port-parity", "a service's ports disagree between artefacts", Severity.ERROR, examples=EXAMPLES)
def port_parity(ctx: CheckContext) -> Iterable[Problem]:
    """A service's ports are the planned ones everywhere: Dockerfile ``EXPOSE`` and the
    container's ``containerPort`` list equal the profile's ports; the Kubernetes
    Service's target ports, the NetworkPolicy ports that admit traffic to the service
    and the compose published ports are among them; Prometheus scrapes the planned
    metrics port (the service's, or its exporter's), which a container of the pod
    exposes.

    Remediation: change ``services.<name>.ports`` or ``metrics.port`` (an exporter's
    ``port``) in the profile.
    """
    scrape = _scrape_ports(ctx)
    for service in ctx.plan.services.values():
        name = service.name
        declared = {p.port for p in service.ports}
        related = (ctx.in_profile("services", name, "ports"),)
        found = final_stage(ctx, service)
        if found is not None:
            artefact, final = found
            expose = {int(w.split("/")[0]) for e in final.all("EXPOSE") for w in e.arguments.split() if w.split("/")[0].isdigit()}
            if expose != declared:
                yield Problem(f"service {name}: EXPOSE {sorted(expose)} but the profile's ports are {sorted(declared)}",
                              ctx.location(artefact.path, final.line, 1), related=related)
        pod_ports: set[int] = set()
        for obj, container, path in kube_containers(ctx, service):
            ports = {p.get("containerPort") for p in container.get("ports") or []}
            if ports != declared:
                yield Problem(f"service {name}: containerPorts {sorted(ports)} but the profile's ports are {sorted(declared)}",
                              obj.at(*path, "ports"), related=related)
            for other in ((obj.spec.get("template") or {}).get("spec") or {}).get("containers") or []:
                pod_ports |= {p.get("containerPort") for p in other.get("ports") or []}
        compose = compose_service(ctx, name)
        if compose is not None:
            for port in compose[0].get("ports") or []:
                target = port.get("target") if isinstance(port, dict) else int(re.split(r"[:/]", str(port))[-2])
                if target not in declared:
                    yield Problem(f"service {name}: compose publishes container port {target}, which the service does not listen on",
                                  compose[1](), related=related)
        for platform, config_ports in scrape:
            if service.scrape is None or service.scrape.job not in config_ports:
                continue
            port, locate = config_ports[service.scrape.job]
            if port != service.scrape.port:
                yield Problem(f"service {name}: Prometheus scrapes port {port} but metrics are on {service.scrape.port}", locate(),
                              related=(ctx.in_profile("services", name),))
            if platform == "kubernetes" and pod_ports and port not in pod_ports:
                yield Problem(f"service {name}: Prometheus scrapes port {port}, which no container of the pod exposes", locate())
        for obj in ctx.selecting(name):
            spec = obj.spec
            if obj.kind == "Service" and (spec.get("selector") or {}).get("app.kubernetes.io/name") == name:
                names = {p.name: p.port for p in service.ports}
                for index, port in enumerate(spec.get("ports") or []):
                    target = port.get("targetPort")
                    if names.get(target, target) not in declared:
                        yield Problem(f"Service {obj.name} targets port {target!r}, not one of {sorted(declared)}", obj.at("spec", "ports", index))
            if obj.kind == "NetworkPolicy" and ((spec.get("podSelector") or {}).get("matchLabels") or {}).get("app.kubernetes.io/name") == name:
                allowed = declared | ({service.scrape.port} if service.scrape else set())
                for r, rule in enumerate(spec.get("ingress") or []):
                    for p, port in enumerate(rule.get("ports") or []):
                        if port.get("port") not in allowed:
                            yield Problem(f"NetworkPolicy {obj.name} admits port {port.get('port')}, which {name} does not serve",
                                          obj.at("spec", "ingress", r, "ports", p))
