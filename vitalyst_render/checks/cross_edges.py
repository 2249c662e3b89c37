"""VR605: network paths are exactly the planned edges, on both platforms."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import combinations
from typing import Any

from ..errors import Location

from .base import Problem, Severity, check
from .context import CheckContext, KubeObject
from .examples import ADD_CACHE, ADD_WORKER, Edit, Expect, Fail, Pass

APP = "app.kubernetes.io/name"
Path = tuple[str, str, int]  # caller, callee, port

POLICIES = "kubernetes/networkpolicy.yaml"
COMPOSE = "compose/docker-compose.yml"


#: The neo4j-ingress rule that admits the backend on bolt (the one rule with this text).
_NEO4J_FROM_BACKEND = ("app.kubernetes.io/name: backend\n              app.kubernetes.io/part-of: vitalyst\n"
                       "      ports:\n        - protocol: TCP\n          port: 7687")
_DEV_BACKEND_NETWORKS = "networks: [backend-to-neo4j, backend-to-redis, frontend-to-backend, backend-edge]"

EXAMPLES = (
    Fail("a policy that admits frontend → neo4j in place of the backend", profile="staging",
         edits=[Edit(POLICIES, _NEO4J_FROM_BACKEND, _NEO4J_FROM_BACKEND.replace("backend", "frontend"))],
         expect=[Expect(POLICIES, "ingress policy opens frontend → neo4j:7687, which the plan does not have"),
                 Expect(POLICIES, "planned edge backend → neo4j:7687 has no ingress rule")]),
    Fail("compose puts the frontend on the backend's network to redis", profile="dev",
         edits=[Edit(COMPOSE, "networks: [frontend-to-backend, frontend-edge]",
                     "networks: [frontend-to-backend, frontend-edge, backend-to-redis]")],
         expect=[Expect(COMPOSE, "compose: frontend and redis share network 'backend-to-redis', though no edge joins them")]),
    Fail("compose leaves the backend without a network to redis, which it calls", profile="dev",
         edits=[Edit(COMPOSE, _DEV_BACKEND_NETWORKS, _DEV_BACKEND_NETWORKS.replace(" backend-to-redis,", ""))],
         expect=[Expect(COMPOSE, "compose: backend cannot reach redis (no shared network), though the plan has that edge")]),
    Fail("a worker added in the profile that joins the backend's network to neo4j", overlay=ADD_WORKER,
         edits=[Edit(COMPOSE, "networks: [worker-to-neo4j]", "networks: [worker-to-neo4j, backend-to-neo4j]")],
         expect=[Expect(COMPOSE, "compose: backend and worker share network 'backend-to-neo4j', though no edge joins them")]),
    Fail("policies that open neo4j's HTTP port instead of bolt, which the backend calls", profile="staging",
         edits=[Edit(POLICIES, "port: 7687", "port: 7474")],
         expect=[Expect(POLICIES, "ingress policy opens backend → neo4j:7474, which the plan does not have"),
                 Expect(POLICIES, "planned edge backend → neo4j:7687 has no ingress rule"),
                 Expect(POLICIES, "egress policy opens backend → neo4j:7474, which the plan does not have"),
                 Expect(POLICIES, "planned edge backend → neo4j:7687 has no egress rule")]),
    Pass("a worker that calls neo4j: its own network and rules, never shared with the backend", overlay=ADD_WORKER),
    Pass("a second Redis the backend calls: its own edge, and one for its exporter", overlay=ADD_CACHE),
)


def _peer_app(peer: dict[str, Any]) -> str | None:
    if "namespaceSelector" in peer or "ipBlock" in peer:
        return None  # traffic from outside the namespace (ingress controller, Prometheus)
    app = ((peer.get("podSelector") or {}).get("matchLabels") or {}).get(APP)
    return app if isinstance(app, str) else None


def _policy_paths(ctx: CheckContext, direction: str) -> dict[Path, tuple[KubeObject, int]]:
    """Pod-to-pod paths the policies open in one direction, each with its policy and rule."""
    peers_key = "from" if direction == "ingress" else "to"
    table: dict[Path, tuple[KubeObject, int]] = {}
    for policy in ctx.kube_objects:
        if policy.kind != "NetworkPolicy":
            continue
        target = ((policy.spec.get("podSelector") or {}).get("matchLabels") or {}).get(APP)
        if target is None:
            continue
        for r, rule in enumerate(policy.spec.get(direction) or []):
            ports = [p.get("port") for p in rule.get("ports") or []] or [None]
            for peer in rule.get(peers_key) or []:
                other = _peer_app(peer) if isinstance(peer, dict) else None
                if other is None:
                    continue
                for port in ports:
                    path = (other, target, port) if direction == "ingress" else (target, other, port)
                    table.setdefault(path, (policy, r))
    return table


@check("VR605", "cross-network-edges", "network policy or compose networks allow other paths than the planned ones", Severity.ERROR,
       examples=EXAMPLES)
def network_edges(ctx: CheckContext) -> Iterable[Problem]:
    """The pod-to-pod paths that NetworkPolicies open are exactly the plan's edges (each
    service's ``depends_on``, on the callee's first port, plus backup jobs that call a
    service), in both directions: ingress at the callee and egress at the caller. No
    more, no fewer. In compose, services that share a network can reach each other, so
    every planned edge (sidecars included) shares a network, and no two services share
    one unless an edge joins them. (Traffic from outside the namespace, the ingress
    controller and Prometheus, is VR313's business.)

    Remediation: change ``depends_on`` in the profile; the policies and networks follow.
    """
    planned = {(e.caller, e.callee, e.port) for e in ctx.plan.edges}
    policies = [o for o in ctx.kube_objects if o.kind == "NetworkPolicy"]
    if policies:
        for direction in ("ingress", "egress"):
            table = _policy_paths(ctx, direction)
            for path, (policy, rule) in sorted(table.items(), key=lambda item: str(item[0])):
                if path not in planned:
                    yield Problem(f"{direction} policy opens {path[0]} → {path[1]}:{path[2]}, which the plan does not have",
                                  policy.at("spec", direction, rule), related=(_depends_on(ctx, path[0]),))
            for path in sorted(planned - set(table)):
                yield Problem(f"planned edge {path[0]} → {path[1]}:{path[2]} has no {direction} rule", policies[0].at(),
                              related=(_depends_on(ctx, path[0]),))
    view = ctx.compose
    if view is None:
        return
    networks_of = {name: set(service.get("networks") or []) for name, service in view.services.items()}
    joined = {frozenset((e.caller, e.callee)) for e in ctx.plan.compose_edges}
    for edge in ctx.plan.compose_edges:
        if edge.caller in networks_of and edge.callee in networks_of and not networks_of[edge.caller] & networks_of[edge.callee]:
            yield Problem(f"compose: {edge.caller} cannot reach {edge.callee} (no shared network), though the plan has that edge",
                          ctx.where(view.artefact, "services", edge.caller, "networks"), related=(_depends_on(ctx, edge.caller),))
    # The pairs that share a network, from each network's members: never every pair of services.
    members: dict[str, list[str]] = {}
    for name in sorted(networks_of):
        for network in networks_of[name]:
            members.setdefault(network, []).append(name)
    for a, b in sorted({pair for names in members.values() for pair in combinations(names, 2)}):
        shared = networks_of[a] & networks_of[b]
        if frozenset((a, b)) not in joined:
            yield Problem(f"compose: {a} and {b} share network {sorted(shared)[0]!r}, though no edge joins them",
                          ctx.where(view.artefact, "services", a, "networks"), related=(_depends_on(ctx, a),))


def _depends_on(ctx: CheckContext, caller: str) -> Location:
    if caller in ctx.plan.services:
        return ctx.in_profile("services", caller, "depends_on")
    job = next((j for j in ctx.plan.backups if j.name == caller), None)
    return ctx.in_profile("services", job.service, "backup") if job else ctx.in_profile("services")
