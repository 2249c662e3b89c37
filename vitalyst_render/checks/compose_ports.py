"""VR205: published ports stay where they belong."""

from __future__ import annotations

from typing import Iterable

from ._support import compose_document, compose_services, where
from .base import Problem, Severity, check


@check("VR205", "compose-published-ports", "compose publishes a port beyond what the environment allows", Severity.ERROR)
def compose_ports(ctx) -> Iterable[Problem]:
    """On a laptop (``compose_mode: local``) every published port binds 127.0.0.1, so
    the stack is not reachable from the network. In a swarm only services with
    ``expose`` are published; the rest are reached over internal networks.

    Remediation: the template derives this from ``compose_mode`` and ``expose``; do not
    publish data stores.

    A port on a service that joins only internal networks is never published at all.

    FAIL: ``ports: ["8000:8000"]`` in dev, or any ``ports`` on neo4j in prod.
    PASS: ``ports: ["127.0.0.1:8000:8000/tcp"]`` in dev; only the exposed frontend published in prod.
    """
    local = ctx.profile.environment.compose_mode == "local"
    document = compose_document(ctx)
    networks = (document.data.get("networks") or {}) if document is not None else {}
    for name, service, artefact in compose_services(ctx):
        joined = service.get("networks") or []
        internal_only = bool(joined) and all((networks.get(n) or {}).get("internal") for n in joined)
        for index, port in enumerate(service.get("ports") or []):
            location = where(ctx, artefact, "services", name, "ports", index)
            if internal_only:
                yield Problem(f"service {name} publishes {port!r} but joins only internal networks, where Docker publishes nothing",
                              location, hint="drop the port, or attach the service to a non-internal network")
                continue
            if local:
                host_ip = port.get("host_ip") if isinstance(port, dict) else (str(port).split(":")[0] if str(port).count(":") == 2 else None)
                if host_ip != "127.0.0.1":
                    yield Problem(f"service {name} publishes {port!r} beyond 127.0.0.1", location,
                                  hint='bind as "127.0.0.1:HOST:CONTAINER"')
            elif (planned := ctx.plan.services.get(name)) is None or planned.expose is None:
                yield Problem(f"service {name} is published in a swarm, but only exposed services may be", location,
                              hint=f"set services.{name}.expose, or drop the port")
