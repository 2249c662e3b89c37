"""VR611: a service reaches outside on both platforms exactly when the profile declares egress."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from ..errors import Location
from .base import Problem, Severity, check
from .context import COMPOSE, CheckContext, KubeObject, pod_labels
from .examples import ADD_DOCS, ADD_WORKER, Edit, Expect, Fail, Pass

POLICIES = "kubernetes/networkpolicy.yaml"
_PRIVATE = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8"))
_FRONTEND_OUT = ("          port: 8000\n    # Outside the cluster only (private ranges excluded), on the declared ports.\n"
                 "    - to:\n        - ipBlock:\n            cidr: 0.0.0.0/0\n"
                 "            except: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16]\n      ports:\n        - protocol: TCP\n"
                 "          port: 443\n")
_REDIS_EGRESS = ("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: redis-egress\n"
                 "  namespace: vitalyst-staging\nspec:\n  podSelector:\n    matchLabels:\n      app.kubernetes.io/name: redis\n"
                 "      app.kubernetes.io/part-of: vitalyst\n  policyTypes: [Egress]\n  egress:\n    - to:\n        - ipBlock:\n"
                 "            cidr: 0.0.0.0/0\n      ports:\n        - protocol: TCP\n          port: 443\n")
_REDIS_INGRESS = "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: redis-ingress\n"
_EXPORTER_NET = "  redis-exporter-to-redis:\n    driver: overlay\n    internal: true\n"
_BACKEND_EDGE = "  backend-edge:\n    driver: overlay\n    attachable: true\n"

EXAMPLES = (
    Fail(
        "issue 12's frontend: it reads AUTH0_DOMAIN, swarm publishes it (a route out), Kubernetes lets it reach nothing",
        overlay="services:\n  frontend:\n    egress_ports: []\n",
        expect=[Expect(COMPOSE, "service frontend: swarm lets it reach outside (it is published, and its tasks join "
                                "docker_gwbridge), but the profile declares no egress_ports")],
    ),
    Fail(
        "Kubernetes lets redis reach the internet, which the profile never declared",
        profile="staging",
        edits=[Edit(POLICIES, _REDIS_INGRESS, _REDIS_EGRESS + _REDIS_INGRESS)],
        expect=[Expect(POLICIES, "service redis: Kubernetes lets it reach outside the cluster on port 443 (NetworkPolicy "
                                 "redis-egress egress[0]), but the profile declares no egress_ports")],
    ),
    Fail(
        "Kubernetes drops the frontend's declared route to Auth0",
        profile="staging",
        edits=[Edit(POLICIES, _FRONTEND_OUT, "          port: 8000\n")],
        expect=[Expect(POLICIES, "service frontend: the profile declares egress_ports [443], but Kubernetes lets it reach "
                                 "nothing outside the cluster")],
    ),
    Fail(
        "compose opens the exporter's network to redis: both ends gain a route out nobody declared",
        profile="staging",
        edits=[Edit(COMPOSE, _EXPORTER_NET, _EXPORTER_NET.replace("    internal: true\n", ""))],
        expect=[Expect(COMPOSE, "service redis: compose lets it reach outside (network 'redis-exporter-to-redis' is not "
                                "internal), but the profile declares no egress_ports"),
                Expect(COMPOSE, "service redis: compose lets its sidecar redis-exporter reach outside (network "
                                "'redis-exporter-to-redis' is not internal), but the profile declares no egress_ports")],
    ),
    Fail(
        "compose closes the backend's only route out, which Auth0's keys need",
        profile="staging",
        edits=[Edit(COMPOSE, _BACKEND_EDGE, _BACKEND_EDGE + "    internal: true\n")],
        expect=[Expect(COMPOSE, "service backend: the profile declares egress_ports [443], but compose lets it reach "
                                "nothing outside (every network internal, nothing published)")],
    ),
    Fail(
        "an nginx that swarm publishes needs no egress, but swarm gives it a route out anyway (a warning)",
        overlay=ADD_DOCS,
        expect=[Expect(COMPOSE, "service docs: swarm lets it reach outside (it is published, and its tasks join "
                                "docker_gwbridge), but the profile declares no egress_ports")],
    ),
    Pass("the shipped stack: backend and frontend reach Auth0 on 443, on both platforms", profile="staging"),
    Pass("a laptop publishes backend and frontend, which declare egress", profile="dev"),
    Fail(
        "a laptop publishes an nginx added in the profile: publishing needs a network with a route out",
        profile="dev", overlay=ADD_DOCS,
        expect=[Expect(COMPOSE, "service docs: compose lets it reach outside (it is published, and Docker publishes only "
                                "from a network without internal: true), but the profile declares no egress_ports")],
    ),
    Pass("a worker added in the profile with egress_ports [443]: its own open network and policy rule",
         overlay=ADD_WORKER + "    egress_ports: [443]\n"),
)


@dataclass(frozen=True)
class _Route:
    why: str
    locate: Callable[[], Location]  # found only for a finding: it reads the compose file's positions

    @property
    def where(self) -> Location:
        return self.locate()


def _outside(peer: Any) -> bool:
    """Whether a NetworkPolicy egress peer reaches beyond the cluster's private ranges."""
    if not isinstance(peer, dict):
        return False
    if not peer:
        return True  # an empty peer is every destination
    block = peer.get("ipBlock")
    if not isinstance(block, dict):
        return False  # pods and namespaces are inside the cluster
    try:
        network = ipaddress.ip_network(str(block.get("cidr")), strict=False)
    except ValueError:
        return True
    return not any(network.version == p.version and network.subnet_of(p) for p in _PRIVATE)  # type: ignore[arg-type]


def _selects(policy: KubeObject, labels: dict[str, Any]) -> bool:
    selector = policy.spec.get("podSelector") or {}
    if selector.get("matchExpressions"):
        return False
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


def kube_outside(ctx: CheckContext, app: str) -> tuple[set[int | None], Callable[[], Location] | None, str]:
    """The ports (None: every port) on which the pods labelled ``app`` may reach outside
    the cluster, with how to find the first rule that allows it and its name; no ports: none."""
    workloads = ctx.pods_of(app)
    if not workloads:
        return set(), None, ""
    labels = pod_labels(workloads[0].obj)
    policies = [p for p in ctx.may_select(app) if p.kind == "NetworkPolicy" and "Egress" in (p.spec.get("policyTypes") or [])
                and _selects(p, labels)]
    if not policies:
        return {None}, partial(workloads[0].obj.at, "metadata"), "no egress NetworkPolicy selects it"
    ports: set[int | None] = set()
    where: Callable[[], Location] | None = None
    label = ""
    for policy in policies:
        for index, item in enumerate(policy.spec.get("egress") or []):
            rule: dict[str, Any] = item if isinstance(item, dict) else {}
            peers = rule.get("to")
            if not peers or any(_outside(peer) for peer in peers):
                numbers = [p.get("port") if isinstance(p, dict) else p for p in rule.get("ports") or []]
                ports |= set(numbers) if numbers else {None}
                if where is None:
                    where, label = partial(policy.at, "spec", "egress", index), f"NetworkPolicy {policy.name} egress[{index}]"
    return ports, where, label


def _compose_routes(ctx: CheckContext, compose_name: str) -> tuple[list[_Route], Callable[[], Location] | None]:
    """The compose service's networks without ``internal: true`` (each a route out), and
    how to find its published ports (None: it publishes nothing)."""
    view = ctx.compose
    if view is None or compose_name not in view.services:
        return [], None
    service = view.services[compose_name]
    networks = service.get("networks")
    routes = []
    for index, network in enumerate(list(networks) if isinstance(networks, (list, dict)) and networks else ["default"]):
        if not (view.networks.get(network) or {}).get("internal"):
            where = partial(ctx.where, view.artefact, "services", compose_name, "networks", index) if networks else \
                partial(ctx.where, view.artefact, "services", compose_name)
            routes.append(_Route(f"network {network!r} is not internal", where))
    published = partial(ctx.where, view.artefact, "services", compose_name, "ports") if service.get("ports") else None
    return routes, published


def _ports(ports: set[int | None]) -> str:
    known = sorted(p for p in ports if p is not None)
    if None in ports:
        return "every port"
    return ("port " if len(known) == 1 else "ports ") + ", ".join(str(p) for p in known)


@check("VR611", "cross-egress-parity", "a service reaches outside on one platform but not as the profile declares",
       Severity.ERROR, examples=EXAMPLES)
def egress_parity(ctx: CheckContext) -> Iterable[Problem]:
    """Whether a service may reach outside is one decision, ``services.<name>.egress_ports``,
    and both platforms follow it: the compose/swarm stack can reach outside (the
    service, or a sidecar of its pod, is on a network without ``internal: true``, or a
    swarm publishes it) exactly when the profile declares egress, and the Kubernetes
    NetworkPolicies let its pods reach outside the cluster (an ``ipBlock`` beyond the
    private ranges, an empty peer, a rule without ``to``, or no egress policy at all)
    exactly on the declared ports. Backup jobs declare none. Otherwise one platform
    lets a service do what the other forbids: issue 12's frontend reached Auth0 in a
    swarm and nothing at all on Kubernetes.

    Publishing is a route out of its own: Docker publishes no port of a service on
    internal networks only, and a swarm attaches every task with a published port to
    ``docker_gwbridge``, whatever its networks are. A published service that declares
    no egress is therefore a warning: only the profile can decide (declare the ports
    it needs, stop publishing it, or accept the route by suppressing VR611 with a
    reason).

    Remediation: declare ``egress_ports`` for each service that must reach outside,
    and say why in a comment; the plan gives it a non-internal ``-edge`` network and a
    NetworkPolicy rule for exactly those ports. Do not open networks or policies by hand.
    """
    plan = ctx.plan
    swarm = plan.profile.environment.compose_mode == "swarm"
    on_kubernetes = bool(ctx.objects_of_kind("NetworkPolicy")) or bool(ctx.pods)
    for service in plan.services.values():
        name = service.name
        declared = set(service.egress_ports)
        related = (ctx.in_profile("services", name, "egress_ports") if declared else ctx.in_profile("services", name),)
        if ctx.compose is not None and name in ctx.compose.services:
            routes, published = _compose_routes(ctx, name)
            if published is not None and not declared:
                # Publishing is a route out of its own: Docker publishes no port of an
                # internal-only service, and a swarm task with a published port joins
                # docker_gwbridge whatever its networks are.
                how = "its tasks join docker_gwbridge" if swarm else "Docker publishes only from a network without internal: true"
                yield Problem(f"service {name}: {'swarm' if swarm else 'compose'} lets it reach outside (it is published, and "
                              f"{how}), but the profile declares no egress_ports", published(), related=related,
                              severity=Severity.WARNING,
                              hint=f"declare services.{name}.egress_ports if it must reach out; publishing gives it a route out "
                                   "either way, so stop publishing it or suppress VR611 with the reason")
            elif routes and not declared:
                yield Problem(f"service {name}: compose lets it reach outside ({routes[0].why}), but the profile declares no "
                              "egress_ports", routes[0].where, related=related,
                              hint=f"keep its networks internal: true, or declare services.{name}.egress_ports")
            if declared and not routes and (published is None or not swarm):
                yield Problem(f"service {name}: the profile declares egress_ports {sorted(declared)}, but compose lets it reach "
                              "nothing outside (every network internal, nothing published)",
                              ctx.where(ctx.compose.artefact, "services", name, "networks"), related=related,
                              hint=f"give it a network without internal: true (the plan's {name}-edge)")
            if not declared:
                for sidecar in service.sidecars:
                    sidecar_routes, _ = _compose_routes(ctx, sidecar.compose_name)
                    for route in sidecar_routes[:1]:
                        yield Problem(f"service {name}: compose lets its sidecar {sidecar.compose_name} reach outside "
                                      f"({route.why}), but the profile declares no egress_ports", route.where,
                                      related=related, hint=f"keep {sidecar.compose_name}'s networks internal: true")
        if on_kubernetes:
            yield from _kube_parity(ctx, name, declared, related)
    if on_kubernetes:
        for job in plan.backups:
            yield from _kube_parity(ctx, job.name, set(), (ctx.in_profile("services", job.service, "backup"),))


def _kube_parity(ctx: CheckContext, app: str, declared: set[int], related: tuple[Location, ...]) -> Iterator[Problem]:
    ports, where, rule = kube_outside(ctx, app)
    reaches = bool(ports)
    what = "service" if app in ctx.plan.services else "backup job"
    if reaches and ports != declared:
        if declared:
            message = (f"{what} {app}: Kubernetes lets it reach outside the cluster on {_ports(ports)} ({rule}), but the "
                       f"profile declares egress_ports {sorted(declared)}")
        else:
            message = (f"{what} {app}: Kubernetes lets it reach outside the cluster on {_ports(ports)} ({rule}), but the "
                       "profile declares no egress_ports")
        yield Problem(message, where() if where is not None else ctx.location(POLICIES), related=related,
                      hint="Kubernetes may reach outside only on the declared egress_ports; do not add rules by hand")
    elif declared and not reaches:
        policies = ctx.objects_of_kind("NetworkPolicy")
        anchor = next((p.at() for p in policies if p.name == f"{app}-egress"), policies[0].at() if policies else ctx.location(POLICIES))
        yield Problem(f"{what} {app}: the profile declares egress_ports {sorted(declared)}, but Kubernetes lets it reach "
                      "nothing outside the cluster", anchor, related=related,
                      hint="the plan renders an ipBlock rule for the declared ports in its -egress NetworkPolicy")
