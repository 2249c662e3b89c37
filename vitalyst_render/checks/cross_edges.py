"""VR605: network paths are exactly the declared dependency edges, on both platforms."""

from __future__ import annotations

from typing import Iterable

from ._support import compose_document, in_profile, kube_objects
from .base import Problem, Severity, check

APP = "app.kubernetes.io/name"


def declared_edges(profile) -> set[tuple[str, str, int]]:  # noqa: ANN001
    edges = {
        (caller, callee, profile.services[callee].ports[0].port)
        for caller, service in profile.services.items()
        for callee in service.depends_on
    }
    if profile.backups is not None:
        edges.add(("redis-backup", "redis", profile.services["redis"].ports[0].port))
    return edges


def _peer_app(peer: dict) -> str | None:
    if "namespaceSelector" in peer or "ipBlock" in peer:
        return None  # traffic from outside the namespace (ingress controller, Prometheus)
    return ((peer.get("podSelector") or {}).get("matchLabels") or {}).get(APP)


@check("VR605", "cross-network-edges", "network policy or compose networks allow other paths than the declared ones", Severity.ERROR)
def network_edges(ctx) -> Iterable[Problem]:
    """The pod-to-pod paths that NetworkPolicies open are exactly the profile's
    ``depends_on`` edges (plus the Redis backup job), on the callee's port, in both
    directions: ingress at the callee and egress at the caller. No more, no fewer. In
    compose, services that share a network can reach each other, so every declared edge
    must share one and no service may share one with a data store it does not depend on.
    (Traffic from outside the namespace, the ingress controller and Prometheus, is
    VR313's business.)

    Remediation: change ``depends_on`` in the profile; the policies and networks follow.

    FAIL: a policy admitting frontend → neo4j; frontend on the data network in compose.
    PASS: frontend → backend:8000, backend → neo4j:7687 and redis:6379, nothing else.
    """
    declared = declared_edges(ctx.profile)
    objects = list(kube_objects(ctx))
    policies = [o for o in objects if o.kind == "NetworkPolicy"]
    if policies:
        ingress: dict[tuple[str, str, int], object] = {}
        egress: dict[tuple[str, str, int], object] = {}
        for policy in policies:
            spec = policy.document.get("spec") or {}
            target = ((spec.get("podSelector") or {}).get("matchLabels") or {}).get(APP)
            if target is None:
                continue
            for direction, peers_key, table in (("ingress", "from", ingress), ("egress", "to", egress)):
                for r, rule in enumerate(spec.get(direction) or []):
                    ports = [p.get("port") for p in rule.get("ports") or []] or [None]
                    for peer in rule.get(peers_key) or []:
                        other = _peer_app(peer)
                        if other is None:
                            continue
                        for port in ports:
                            edge = (other, target, port) if direction == "ingress" else (target, other, port)
                            table.setdefault(edge, policy.at(ctx, "spec", direction, r))
        anchor = policies[0].at(ctx)
        for direction, table in (("ingress", ingress), ("egress", egress)):
            for edge, location in sorted(table.items(), key=lambda item: str(item[0])):
                if edge not in declared:
                    caller = edge[0] if edge[0] in ctx.profile.services else None
                    related = (in_profile(ctx, "services", caller, "depends_on") if caller else in_profile(ctx, "services"),)
                    yield Problem(f"{direction} policy opens {edge[0]} → {edge[1]}:{edge[2]}, which the profile does not declare",
                                  location, related=related)
            for edge in sorted(declared - set(table)):
                related = (in_profile(ctx, "services", edge[0], "depends_on"),) if edge[0] in ctx.profile.services else ()
                yield Problem(f"declared edge {edge[0]} → {edge[1]}:{edge[2]} has no {direction} rule", anchor, related=related)
    document = compose_document(ctx)
    if document is None:
        return
    services = document.data.get("services") or {}
    networks_of = {name: set(service.get("networks") or []) for name, service in services.items()}
    stores = {name for name, service in ctx.profile.services.items() if service.storage is not None}
    compose_declared = {(a, b) for a, b, _ in declared if a in services and b in services}
    for a, b in sorted(compose_declared):
        if not networks_of.get(a, set()) & networks_of.get(b, set()):
            loc = document.positions.value(("services", a, "networks"))
            yield Problem(f"compose: {a} cannot reach {b} (no shared network), though it depends on it",
                          ctx.location(document.path, loc.line, loc.col), related=(in_profile(ctx, "services", a, "depends_on"),))
    for a in sorted(services):
        for b in sorted(stores):
            if a == b or a == f"{b}-exporter" or (a, b) in compose_declared:
                continue
            shared = networks_of.get(a, set()) & networks_of.get(b, set())
            if shared:
                loc = document.positions.value(("services", a, "networks"))
                related = (in_profile(ctx, "services", a, "depends_on") if a in ctx.profile.services else in_profile(ctx, "services", b),)
                yield Problem(f"compose: {a} shares network {sorted(shared)[0]!r} with data store {b} without depending on it",
                              ctx.location(document.path, loc.line, loc.col), related=related)
