"""VR314: no deprecated or removed Kubernetes API versions."""

from __future__ import annotations

from typing import Iterable

from ._support import kube_objects
from .base import Problem, Severity, check

#: apiVersion → (kind or "*", Kubernetes minor where it was removed, replacement).
DEPRECATED = {
    "extensions/v1beta1": ("*", 22, "apps/v1 or networking.k8s.io/v1"),
    "apps/v1beta1": ("*", 16, "apps/v1"),
    "apps/v1beta2": ("*", 16, "apps/v1"),
    "networking.k8s.io/v1beta1": ("*", 22, "networking.k8s.io/v1"),
    "policy/v1beta1": ("*", 25, "policy/v1"),
    "batch/v1beta1": ("CronJob", 25, "batch/v1"),
    "autoscaling/v2beta1": ("*", 25, "autoscaling/v2"),
    "autoscaling/v2beta2": ("*", 26, "autoscaling/v2"),
    "autoscaling/v1": ("HorizontalPodAutoscaler", 0, "autoscaling/v2 (v1 is CPU-only and frozen)"),
    "rbac.authorization.k8s.io/v1beta1": ("*", 22, "rbac.authorization.k8s.io/v1"),
    "storage.k8s.io/v1beta1": ("*", 27, "storage.k8s.io/v1"),
    "flowcontrol.apiserver.k8s.io/v1beta2": ("*", 29, "flowcontrol.apiserver.k8s.io/v1"),
    "flowcontrol.apiserver.k8s.io/v1beta3": ("*", 32, "flowcontrol.apiserver.k8s.io/v1"),
}


@check("VR314", "k8s-deprecated-api", "object uses a deprecated or removed API version", Severity.ERROR)
def deprecated_api(ctx) -> Iterable[Problem]:
    """No object uses an API version that is removed in, or deprecated before, the
    profile's Kubernetes version. Removed versions fail at apply time; deprecated ones
    fail at the next upgrade.

    Remediation: move to the replacement the finding names.

    FAIL: ``apiVersion: policy/v1beta1`` for a PodDisruptionBudget; ``batch/v1beta1`` CronJob.
    PASS: ``policy/v1``, ``batch/v1``, ``autoscaling/v2``.
    """
    kubernetes = ctx.profile.environment.kubernetes
    target = int(kubernetes.version.split(".")[1]) if kubernetes else 99
    for obj in kube_objects(ctx):
        entry = DEPRECATED.get(str(obj.document.get("apiVersion")))
        if entry is None:
            continue
        kind, removed, replacement = entry
        if kind not in ("*", obj.kind):
            continue
        state = f"removed in 1.{removed}" if removed and target >= removed else "deprecated"
        yield Problem(f"{obj.label} uses {obj.document['apiVersion']} ({state}); use {replacement}", obj.at("apiVersion"),
                      severity=Severity.ERROR if removed and target >= removed else Severity.WARNING)
