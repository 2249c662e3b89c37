"""VR311: replicated apps have a PodDisruptionBudget and an autoscaler."""

from __future__ import annotations

from typing import Iterable

from ._support import kube_objects, pod_labels
from .base import Problem, Severity, check


@check("VR311", "k8s-pdb-hpa", "replicated workload lacks a PodDisruptionBudget or HorizontalPodAutoscaler", Severity.ERROR)
def pdb_and_hpa(ctx) -> Iterable[Problem]:
    """Every Deployment or StatefulSet has a PodDisruptionBudget selecting its pods, so
    node drains keep it available. Every Deployment with more than one replica is the
    target of a HorizontalPodAutoscaler (``autoscaling/v2``), and a Deployment that
    omits ``replicas`` (so that an apply does not reset the autoscaler's count) has one.

    Remediation: set ``services.<app>.autoscaling``; the templates add PDBs for all.

    FAIL: a Deployment with ``replicas: 3`` and no PDB or HPA.
    PASS: a PDB selecting ``app.kubernetes.io/name: backend`` and an HPA targeting the Deployment.
    """
    objects = list(kube_objects(ctx))
    pdb_selectors = [((o.document.get("spec") or {}).get("selector") or {}).get("matchLabels") or {} for o in objects if o.kind == "PodDisruptionBudget"]
    hpa_targets = {
        ((o.document.get("spec") or {}).get("scaleTargetRef") or {}).get("name")
        for o in objects
        if o.kind == "HorizontalPodAutoscaler"
    }
    for obj in objects:
        if obj.kind not in ("Deployment", "StatefulSet"):
            continue
        labels = pod_labels(obj)
        if not any(selector and all(labels.get(k) == v for k, v in selector.items()) for selector in pdb_selectors):
            yield Problem(f"{obj.label} has no PodDisruptionBudget", obj.at("metadata"))
        spec = obj.document.get("spec") or {}
        if obj.kind != "Deployment" or obj.name in hpa_targets:
            continue
        if "replicas" not in spec:
            yield Problem(f"{obj.label} leaves its replica count to a HorizontalPodAutoscaler that does not exist", obj.at("spec"))
        elif isinstance(spec["replicas"], int) and spec["replicas"] > 1:
            yield Problem(f"{obj.label} has {spec['replicas']} replicas and no HorizontalPodAutoscaler", obj.at("spec", "replicas"))
