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


def _open_peer(peer: dict) -> bool:
    """A peer that admits everyone: {} , namespaceSelector: {} alone, or 0.0.0.0/0."""
    if not peer:
        return True
    if "ipBlock" in peer:
        return (peer["ipBlock"] or {}).get("cidr") in ("0.0.0.0/0", "::/0")
    namespaces = peer.get("namespaceSelector")
    pods = peer.get("podSelector")
    return namespaces == {} and (pods is None or pods == {})


@check("VR313", "k8s-network-policy", "network policy leaves traffic open", Severity.ERROR)
def network_policy(ctx) -> Iterable[Problem]:
    """The namespace has a default-deny policy for both Ingress and Egress; every pod is
    selected by some policy; and no rule admits everyone. A rule with ``ports`` but no
    ``from`` (or ``to``) admits every source on those ports: the seed's
    ``- ports: [8000]`` item opened the backend to the world.

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
        yield Problem("no default-deny NetworkPolicy (podSelector: {}, Ingress and Egress, no rules)", anchor.at(ctx))
    for obj in objects:
        if pod_template(obj) is None:
            continue
        labels = pod_labels(obj)
        if not any(_selects((p.document.get("spec") or {}).get("podSelector"), labels) for p in policies):
            yield Problem(f"{obj.label}: its pods are selected by no NetworkPolicy", obj.at(ctx, "metadata"))
    for policy in policies:
        spec = policy.document.get("spec") or {}
        for direction, peers_key in (("ingress", "from"), ("egress", "to")):
            for index, rule in enumerate(spec.get(direction) or []):
                peers = (rule or {}).get(peers_key)
                if not peers:
                    yield Problem(f"NetworkPolicy {policy.name} {direction}[{index}] has no {peers_key!r}: it admits every peer",
                                  policy.at(ctx, "spec", direction, index), hint=f"name the allowed peers under {peers_key}")
                    continue
                for peer_index, peer in enumerate(peers):
                    if isinstance(peer, dict) and _open_peer(peer):
                        yield Problem(f"NetworkPolicy {policy.name} {direction}[{index}] admits any peer",
                                      policy.at(ctx, "spec", direction, index, peers_key, peer_index))
