"""VR316: everything lives in the stack's namespace, which enforces Pod Security."""

from __future__ import annotations

from collections.abc import Iterable

from .base import Problem, Severity, check
from .context import CheckContext
from .examples import ADD_DOCS, Edit, Expect, Fail, Pass

CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass", "PriorityClass",
                  "CustomResourceDefinition", "IngressClass"}
BACKEND = "kubernetes/backend.yaml"
NAMESPACE = "kubernetes/namespace.yaml"
DEPLOYMENT_METADATA = "kind: Deployment\nmetadata:\n  name: backend\n  namespace: vitalyst-staging\n"

EXAMPLES = (
    Fail(
        "a Deployment without metadata.namespace (it lands wherever kubectl points)",
        profile="staging",
        edits=[Edit(BACKEND, DEPLOYMENT_METADATA, DEPLOYMENT_METADATA.replace("  namespace: vitalyst-staging\n", ""))],
        expect=[Expect(BACKEND, "Deployment backend is in namespace None; expected 'vitalyst-staging'")],
    ),
    Fail(
        "a Service in the default namespace",
        profile="staging",
        edits=[Edit(BACKEND, "kind: Service\nmetadata:\n  name: backend\n  namespace: vitalyst-staging\n",
                    "kind: Service\nmetadata:\n  name: backend\n  namespace: default\n")],
        expect=[Expect(BACKEND, "Service backend is in namespace 'default'; expected 'vitalyst-staging'")],
    ),
    Fail(
        "a Namespace that enforces Pod Security privileged",
        profile="staging",
        edits=[Edit(NAMESPACE, "pod-security.kubernetes.io/enforce: restricted", "pod-security.kubernetes.io/enforce: privileged")],
        expect=[Expect(NAMESPACE, "Namespace vitalyst-staging enforces Pod Security 'privileged'; expected 'restricted'")],
    ),
    Fail(
        "a Namespace object for another name than the profile's namespace",
        profile="staging",
        edits=[Edit(NAMESPACE, "  name: vitalyst-staging\n", "  name: vitalyst-stage\n")],
        expect=[Expect(NAMESPACE, "no Namespace object for 'vitalyst-staging'")],
    ),
    Pass("a profile that asks for Pod Security baseline: the namespace enforces what the profile asks",
         profile="staging", overlay="security:\n  pod_security_level: baseline\n"),
    Pass("an nginx added in the profile: its objects land in the stack's namespace", overlay=ADD_DOCS),
)


@check("VR316", "k8s-namespace", "object outside the stack namespace, or namespace without Pod Security", Severity.ERROR,
       examples=EXAMPLES)
def namespace(ctx: CheckContext) -> Iterable[Problem]:
    """Every namespaced object names ``environment.kubernetes.namespace`` explicitly
    (never ``default``, never left to the caller's context), and that Namespace is
    rendered with Pod Security Admission ``enforce`` at the profile's
    ``security.pod_security_level``.

    Remediation: the templates set ``metadata.namespace`` on every object.
    """
    kubernetes = ctx.profile.environment.kubernetes
    if kubernetes is None:
        return
    level = ctx.profile.security.pod_security_level
    saw_namespace = False
    objects = ctx.kube_objects
    for obj in objects:
        metadata = obj.metadata
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
