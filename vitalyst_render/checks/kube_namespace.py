"""VR316: everything lives in the stack's namespace, which enforces Pod Security."""

from __future__ import annotations

from typing import Iterable

from ._support import kube_objects
from .base import Problem, Severity, check

CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass", "PriorityClass",
                  "CustomResourceDefinition", "IngressClass"}


@check("VR316", "k8s-namespace", "object outside the stack namespace, or namespace without Pod Security", Severity.ERROR)
def namespace(ctx) -> Iterable[Problem]:
    """Every namespaced object names ``environment.kubernetes.namespace`` explicitly
    (never ``default``, never left to the caller's context), and that Namespace is
    rendered with Pod Security Admission ``enforce`` at the profile's level.

    Remediation: the templates set ``metadata.namespace`` on every object.

    FAIL: a Deployment without ``metadata.namespace``; a Namespace without ``pod-security.kubernetes.io/enforce``.
    PASS: ``namespace: vitalyst`` everywhere and ``pod-security.kubernetes.io/enforce: restricted``.
    """
    kubernetes = ctx.profile.environment.kubernetes
    if kubernetes is None:
        return
    level = ctx.profile.security.pod_security_level
    saw_namespace = False
    objects = list(kube_objects(ctx))
    for obj in objects:
        metadata = obj.document.get("metadata") or {}
        if obj.kind == "Namespace":
            if metadata.get("name") == kubernetes.namespace:
                saw_namespace = True
                enforced = (metadata.get("labels") or {}).get("pod-security.kubernetes.io/enforce")
                if enforced != level:
                    yield Problem(f"Namespace {obj.name} enforces Pod Security {enforced!r}; expected {level!r}", obj.at("metadata"))
            continue
        if obj.kind in CLUSTER_SCOPED:
            continue
        if metadata.get("namespace") != kubernetes.namespace:
            yield Problem(f"{obj.label} is in namespace {metadata.get('namespace')!r}; expected {kubernetes.namespace!r}",
                          obj.at("metadata"))
    if objects and not saw_namespace:
        yield Problem(f"no Namespace object for {kubernetes.namespace!r}", objects[0].at())
