"""VR314: no deprecated or removed Kubernetes API versions."""

from __future__ import annotations

from collections.abc import Iterable

from .base import Problem, Severity, check
from .context import CheckContext
from .examples import Edit, Expect, Fail, Pass

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

EXAMPLES = (
    Fail(
        "a PodDisruptionBudget on policy/v1beta1 and CronJobs on batch/v1beta1, both removed in 1.25",
        profile="staging",
        edits=[Edit("kubernetes/backend.yaml", "apiVersion: policy/v1\n", "apiVersion: policy/v1beta1\n"),
               Edit("kubernetes/backups.yaml", "apiVersion: batch/v1\n", "apiVersion: batch/v1beta1\n")],
        expect=[
            Expect("kubernetes/backend.yaml", "PodDisruptionBudget backend uses policy/v1beta1 (removed in 1.25); use policy/v1"),
            Expect("kubernetes/backups.yaml", "CronJob neo4j-backup uses batch/v1beta1 (removed in 1.25); use batch/v1"),
            Expect("kubernetes/backups.yaml", "CronJob neo4j-dump uses batch/v1beta1 (removed in 1.25); use batch/v1"),
            Expect("kubernetes/backups.yaml", "CronJob redis-backup uses batch/v1beta1 (removed in 1.25); use batch/v1"),
        ],
    ),
    Fail(
        "a HorizontalPodAutoscaler on autoscaling/v1 (a warning: served, but CPU-only and frozen)",
        profile="staging",
        edits=[Edit("kubernetes/backend.yaml", "apiVersion: autoscaling/v2\n", "apiVersion: autoscaling/v1\n")],
        expect=[Expect("kubernetes/backend.yaml",
                       "HorizontalPodAutoscaler backend uses autoscaling/v1 (deprecated); use autoscaling/v2 (v1 is CPU-only and frozen)")],
    ),
    Pass("a profile that targets Kubernetes 1.33, the newest version it may name",
         profile="staging", overlay='environment:\n  kubernetes: {version: "1.33"}\n'),
)


@check("VR314", "k8s-deprecated-api", "object uses a deprecated or removed API version", Severity.ERROR, examples=EXAMPLES)
def deprecated_api(ctx: CheckContext) -> Iterable[Problem]:
    """No object uses an API version that is removed in, or deprecated before, the
    profile's Kubernetes version. Removed versions fail at apply time; deprecated ones
    fail at the next upgrade.

    Remediation: move to the replacement the finding names.
    """
    kubernetes = ctx.profile.environment.kubernetes
    target = int(kubernetes.version.split(".")[1]) if kubernetes else 99
    for obj in ctx.kube_objects:
        entry = DEPRECATED.get(str(obj.document.get("apiVersion")))
        if entry is None:
            continue
        kind, removed, replacement = entry
        if kind not in ("*", obj.kind):
            continue
        state = f"removed in 1.{removed}" if removed and target >= removed else "deprecated"
        yield Problem(f"{obj.label} uses {obj.document['apiVersion']} ({state}); use {replacement}", obj.at("apiVersion"),
                      severity=Severity.ERROR if removed and target >= removed else Severity.WARNING)
