"""VR313: zero-trust network policy: default deny, every pod covered, no open rules."""

from __future__ import annotations

from typing import Iterable

from ._support import kube_objects, pod_labels, pod_template
from .base import Problem, Severity, check


def _selects(selector: dict, labels: dict) -> bool:
    match = (selector or {}).get("matchLabels") or {}
    if (selector or {}).get("matchExpressions"):
        return False  # we never emit expressions; treat them as not provably matching
    return all(labels.get(k) == v for k, v in match.items())


def _open_peer(peer: dict) -> str | None:
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


def _external_ok(rule: dict, peer: dict, declared_ports: set[int]) -> bool:
    """Egress to the internet is fine on ports the service declares in egress_ports."""
    ports = {p.get("port") for p in rule.get("ports") or []}
    return "ipBlock" in peer and bool(ports) and ports <= declared_ports


@check("VR313", "k8s-network-policy", "network policy leaves traffic open", Severity.ERROR)
def network_policy(ctx) -> Iterable[Problem]:
    """The namespace has a default-deny policy for both Ingress and Egress, plus DNS
    egress; every pod is selected by some policy; every rule names its ports; and no
    rule admits more than named pods: not ``podSelector: {}``, not a namespace without
    a pod selector, not a wide ``ipBlock`` (egress to the internet only on a service's
    declared ``egress_ports``). A rule with ``ports`` but no ``from`` (or ``to``) admits
    every source on those ports: the seed's ``- ports: [8000]`` item opened the backend
    to the world.

    Remediation: the template derives allow rules from ``depends_on``; never add a
    rule without peers.

    FAIL: ``ingress: [{from: [...]}, {ports: [{port: 8000}]}]``.
    PASS: ``ingress: [{from: [{podSelector: {matchLabels: {app.kubernetes.io/name: frontend}}}], ports: [{port: 8000}]}]``.
    """
    objects = list(kube_objects(ctx))
    policies = [o for o in objects if o.kind == "NetworkPolicy"]
    if not any(o.kind in ("Deployment", "StatefulSet", "CronJob", "Job", "DaemonSet", "Pod") for o in objects):
        return
    deny = [
        p for p in policies
        if (p.document.get("spec") or {}).get("podSelector") == {}
        and {"Ingress", "Egress"} <= set((p.document.get("spec") or {}).get("policyTypes") or [])
        and not (p.document.get("spec") or {}).get("ingress")
        and not (p.document.get("spec") or {}).get("egress")
    ]
    if not deny:
        anchor = policies[0] if policies else objects[0]
        yield Problem("no default-deny NetworkPolicy (podSelector: {}, Ingress and Egress, no rules)", anchor.at())
    for obj in objects:
        if pod_template(obj) is None:
            continue
        labels = pod_labels(obj)
        if not any(_selects((p.document.get("spec") or {}).get("podSelector"), labels) for p in policies):
            yield Problem(f"{obj.label}: its pods are selected by no NetworkPolicy", obj.at("metadata"))
    services = ctx.plan.services
    dns = False
    for policy in policies:
        spec = policy.document.get("spec") or {}
        target = ((spec.get("podSelector") or {}).get("matchLabels") or {}).get("app.kubernetes.io/name")
        declared_ports = set(services[target].egress_ports) if target in services else set()
        for direction, peers_key in (("ingress", "from"), ("egress", "to")):
            for index, rule in enumerate(spec.get(direction) or []):
                rule = rule or {}
                ports = {p.get("port") for p in rule.get("ports") or []}
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
                    if reason and not (direction == "egress" and _external_ok(rule, peer, declared_ports)):
                        yield Problem(f"NetworkPolicy {policy.name} {direction}[{index}]: {reason}",
                                      policy.at("spec", direction, index, peers_key, peer_index))
    if deny and not dns:
        yield Problem("default-deny blocks DNS and no policy allows egress to port 53: nothing can resolve names",
                      deny[0].at(), hint="allow egress to kube-dns on UDP and TCP 53")
