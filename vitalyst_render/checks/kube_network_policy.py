"""VR313: zero-trust network policy: default deny, every pod covered, no open rules."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .base import Problem, Severity, check
from .context import CheckContext, pod_labels, pod_template
from .examples import ADD_WORKER, Edit, Expect, Fail, Pass

POLICIES = "kubernetes/networkpolicy.yaml"
BACKEND_INGRESS_END = "          port: 8000\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: backend-egress\n"
DEFAULT_DENY = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-all
  namespace: vitalyst-staging
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
---
"""
DNS_EGRESS = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-dns-egress
  namespace: vitalyst-staging
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
    - to:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: kube-system
          podSelector:
            matchLabels:
              k8s-app: kube-dns
      ports:
        - protocol: UDP
          port: 53
        - protocol: TCP
          port: 53
---
"""
REDIS_FROM_BACKEND = """    - from:
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: backend
              app.kubernetes.io/part-of: vitalyst
      ports:
        - protocol: TCP
          port: 6379
"""
BACKEND_TO_NEO4J_PORTS = """              app.kubernetes.io/name: neo4j
              app.kubernetes.io/part-of: vitalyst
      ports:
        - protocol: TCP
          port: 7687
"""
#: The backend's rule to the internet (its egress to redis comes right before it).
INTERNET_443 = ("          port: 6379\n    # Outside the cluster only (private ranges excluded), on the declared ports.\n"
                "    - to:\n        - ipBlock:\n            cidr: 0.0.0.0/0\n"
                "            except: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16]\n      ports:\n        - protocol: TCP\n          port: 443\n")

EXAMPLES = (
    Fail(
        "the seed's `- ports: [8000]` rule: a port with no `from` opens the backend to every peer",
        profile="staging",
        edits=[Edit(POLICIES, BACKEND_INGRESS_END, BACKEND_INGRESS_END.replace("---\n", "    - ports: [8000]\n---\n", 1))],
        expect=[Expect(POLICIES, "NetworkPolicy backend-ingress ingress[2] has no 'from': it admits every peer")],
    ),
    Fail(
        "no default-deny policy, and a Redis rule that admits a whole namespace",
        profile="staging",
        edits=[
            Edit(POLICIES, DEFAULT_DENY, ""),
            Edit(POLICIES, REDIS_FROM_BACKEND, REDIS_FROM_BACKEND.replace(
                "        - podSelector:\n            matchLabels:\n              app.kubernetes.io/name: backend\n              app.kubernetes.io/part-of: vitalyst\n",
                "        - namespaceSelector:\n            matchLabels:\n              kubernetes.io/metadata.name: monitoring\n")),
        ],
        expect=[
            Expect(POLICIES, "no default-deny NetworkPolicy (podSelector: {}, Ingress and Egress, no rules)"),
            Expect(POLICIES, "NetworkPolicy redis-ingress ingress[0]: a namespaceSelector without a podSelector admits every pod of those namespaces"),
        ],
    ),
    Fail(
        "an egress rule without ports, and no policy that lets pods reach DNS",
        profile="staging",
        edits=[Edit(POLICIES, DNS_EGRESS, ""), Edit(POLICIES, BACKEND_TO_NEO4J_PORTS, BACKEND_TO_NEO4J_PORTS.split("      ports:")[0])],
        expect=[
            Expect(POLICIES, "NetworkPolicy backend-egress egress[0] allows every port"),
            Expect(POLICIES, "default-deny blocks DNS and no policy allows egress to port 53: nothing can resolve names"),
        ],
    ),
    Fail(
        "internet egress on a port the service does not declare in egress_ports",
        profile="staging",
        edits=[Edit(POLICIES, INTERNET_443, INTERNET_443 + "        - protocol: TCP\n          port: 22\n")],
        expect=[Expect(POLICIES, "NetworkPolicy backend-egress egress[2]: ipBlock 0.0.0.0/0 spans a large range")],
    ),
    Fail(
        "the Neo4j backup window's API egress widened to the internet and to a port the profile does not name",
        profile="staging",
        edits=[Edit(POLICIES, '            cidr: "10.0.0.0/8"\n', '            cidr: "0.0.0.0/0"\n'),
               Edit(POLICIES, "          port: 6443\n", "          port: 6443\n        - protocol: TCP\n          port: 22\n")],
        expect=[Expect(POLICIES, "NetworkPolicy neo4j-backup-egress egress[0]: ipBlock 0.0.0.0/0 spans a large range")],
    ),
    Pass("a cluster whose API server endpoints the profile names: the window may reach those addresses only",
         profile="staging", overlay="environment:\n  kubernetes:\n    api_server_cidrs: [192.0.2.10/32, 192.0.2.11/32]\n"
                                    "    api_server_ports: [6443]\n"),
    Pass("a worker added in the profile that calls neo4j and reaches the internet on its declared egress port 443",
         overlay=ADD_WORKER + "    egress_ports: [443]\n"),
)


def _selects(selector: Any, labels: dict[str, Any]) -> bool:
    match = (selector or {}).get("matchLabels") or {}
    if (selector or {}).get("matchExpressions"):
        return False  # we never emit expressions; treat them as not provably matching
    return all(labels.get(k) == v for k, v in match.items())


def _ports(rule: dict[str, Any]) -> set[Any]:
    """The ports a rule names; a bare number (``ports: [8000]``, as the seed wrote it) counts as itself."""
    return {p.get("port") if isinstance(p, dict) else p for p in rule.get("ports") or []}


def _open_peer(peer: dict[str, Any]) -> str | None:
    """Why a peer admits more than named pods, or None when it names them."""
    if not peer:
        return "an empty peer admits everything"
    if "ipBlock" in peer:
        cidr = str((peer["ipBlock"] or {}).get("cidr", ""))
        prefix = int(cidr.rsplit("/", 1)[1]) if "/" in cidr and cidr.rsplit("/", 1)[1].isdigit() else 32
        return f"ipBlock {cidr} spans a large range" if prefix <= 8 else None
    pods = peer.get("podSelector")
    if pods is None:
        return "a namespaceSelector without a podSelector admits every pod of those namespaces"
    if not (pods.get("matchLabels") or pods.get("matchExpressions")):
        return "podSelector: {} admits every pod"
    return None


def _external_ok(rule: dict[str, Any], peer: dict[str, Any], declared_ports: set[int]) -> bool:
    """Egress to the internet is fine on ports the service declares in egress_ports."""
    ports = _ports(rule)
    return "ipBlock" in peer and bool(ports) and ports <= declared_ports


def _api_server_ok(rule: dict[str, Any], peer: dict[str, Any], api: tuple[set[str], set[int]] | None) -> bool:
    """A backup window's pod may reach the API server: the profile's CIDRs, on its ports."""
    if api is None or "ipBlock" not in peer:
        return False
    block = peer["ipBlock"] or {}
    ports = _ports(rule)
    return block.get("cidr") in api[0] and not block.get("except") and bool(ports) and ports <= api[1]


@check("VR313", "k8s-network-policy", "network policy leaves traffic open", Severity.ERROR, examples=EXAMPLES)
def network_policy(ctx: CheckContext) -> Iterable[Problem]:
    """The namespace has a default-deny policy for both Ingress and Egress, plus DNS
    egress; every pod is selected by some policy; every rule names its ports; and no
    rule admits more than named pods: not ``podSelector: {}``, not a namespace without
    a pod selector, not a wide ``ipBlock`` (egress to the internet only on the
    ``egress_ports`` the plan gives the service the policy selects, and to the API
    server only from a backup window's pod, on ``environment.kubernetes.api_server_cidrs``
    and ``api_server_ports``). A rule with
    ``ports`` but no ``from`` (or ``to``) admits every source on those ports: the
    seed's ``- ports: [8000]`` item opened the backend to the world.

    Remediation: the template derives allow rules from ``depends_on``, the backup
    jobs, the exposed services and the scrape ports; never add a rule without peers.
    """
    objects = ctx.kube_objects
    policies = [o for o in objects if o.kind == "NetworkPolicy"]
    if not any(o.kind in ("Deployment", "StatefulSet", "CronJob", "Job", "DaemonSet", "Pod") for o in objects):
        return
    deny = [
        p for p in policies
        if p.spec.get("podSelector") == {}
        and {"Ingress", "Egress"} <= set(p.spec.get("policyTypes") or [])
        and not p.spec.get("ingress")
        and not p.spec.get("egress")
    ]
    if not deny:
        anchor = policies[0] if policies else objects[0]
        yield Problem("no default-deny NetworkPolicy (podSelector: {}, Ingress and Egress, no rules)", anchor.at())
    for obj in objects:
        if pod_template(obj) is None:
            continue
        labels = pod_labels(obj)
        if not any(_selects(p.spec.get("podSelector"), labels) for p in policies):
            yield Problem(f"{obj.label}: its pods are selected by no NetworkPolicy", obj.at("metadata"))
    services = ctx.plan.services
    api_clients = {job.name: (set(job.window.api_cidrs), set(job.window.api_ports)) for job in ctx.plan.backups if job.window}
    dns = False
    for policy in policies:
        spec = policy.spec
        target = ((spec.get("podSelector") or {}).get("matchLabels") or {}).get("app.kubernetes.io/name")
        declared_ports = set(services[target].egress_ports) if isinstance(target, str) and target in services else set()
        for direction, peers_key in (("ingress", "from"), ("egress", "to")):
            for index, item in enumerate(spec.get(direction) or []):
                rule: dict[str, Any] = item if isinstance(item, dict) else {}
                ports = _ports(rule)
                if direction == "egress" and ports & {53}:
                    dns = True
                peers = rule.get(peers_key)
                if not peers:
                    yield Problem(f"NetworkPolicy {policy.name} {direction}[{index}] has no {peers_key!r}: it admits every peer",
                                  policy.at("spec", direction, index), hint=f"name the allowed peers under {peers_key}")
                    continue
                if not ports:
                    yield Problem(f"NetworkPolicy {policy.name} {direction}[{index}] allows every port", policy.at("spec", direction, index),
                                  hint="list the ports the edge needs")
                for peer_index, peer in enumerate(peers):
                    if not isinstance(peer, dict):
                        continue
                    reason = _open_peer(peer)
                    allowed = direction == "egress" and (
                        _external_ok(rule, peer, declared_ports)
                        or _api_server_ok(rule, peer, api_clients.get(target) if isinstance(target, str) else None)
                    )
                    if reason and not allowed:
                        yield Problem(f"NetworkPolicy {policy.name} {direction}[{index}]: {reason}",
                                      policy.at("spec", direction, index, peers_key, peer_index))
    if deny and not dns:
        yield Problem("default-deny blocks DNS and no policy allows egress to port 53: nothing can resolve names",
                      deny[0].at(), hint="allow egress to kube-dns on UDP and TCP 53")
