"""VR902: every Kubernetes object validates against the strict schema of its version."""

from __future__ import annotations

from collections.abc import Iterable

from .. import kube_schemas
from .base import Problem, Severity, ToolUnavailable, check
from .context import CheckContext
from .examples import ADD_DOCS, ADD_WORKER, Edit, Expect, Fail, Pass

BACKEND = "kubernetes/backend.yaml"
NAMESPACE = "kubernetes/namespace.yaml"

EXAMPLES = (
    Fail(
        "a replica count written as a string, and a misspelt pod field",
        profile="staging",
        edits=[
            Edit("kubernetes/neo4j.yaml", "  replicas: 1\n", '  replicas: "1"\n'),
            Edit(BACKEND, "      enableServiceLinks: false\n", "      enableServiceLinks: false\n      hostname_typo: true\n"),
        ],
        expect=[
            Expect("kubernetes/neo4j.yaml", 'StatefulSet neo4j: spec.replicas: "1" is not of types "null", "integer"'),
            Expect(BACKEND, "Deployment backend: spec.template.spec: Additional properties are not allowed ('hostname_typo' was unexpected)"),
        ],
    ),
    Fail(
        "a kind that no schema describes, so nothing would check it",
        profile="staging",
        edits=[Edit(NAMESPACE, "    pod-security.kubernetes.io/warn: restricted\n",
                    "    pod-security.kubernetes.io/warn: restricted\n---\napiVersion: example.com/v1\nkind: Gizmo\nmetadata:\n  name: x\n")],
        expect=[Expect(NAMESPACE, "no schema for Gizmo example.com/v1 in Kubernetes 1.31")],
    ),
    Fail(
        "an API version the target Kubernetes no longer serves",
        profile="staging",
        edits=[Edit(BACKEND, "apiVersion: policy/v1\n", "apiVersion: policy/v1beta1\n")],
        expect=[Expect(BACKEND, "no schema for PodDisruptionBudget policy/v1beta1 in Kubernetes 1.31")],
    ),
    Pass("a profile that targets Kubernetes 1.29, the oldest version it may name",
         profile="staging", overlay='environment:\n  kubernetes: {version: "1.29"}\n'),
    Pass("a worker and an nginx added in the profile: their objects validate too",
         profile="staging", overlay=ADD_WORKER + ADD_DOCS.removeprefix("services:\n")),
)


@check("VR902", "kubernetes-schema", "Kubernetes object breaks the strict schema of the target version", Severity.ERROR,
       tool="kubernetes-validate", examples=EXAMPLES)
def kubernetes_schema(ctx: CheckContext) -> Iterable[Problem]:
    """Validates each object against the strict JSON schema of the profile's
    Kubernetes version (``environment.kubernetes.version``), as bundled by the
    ``kubernetes-validate`` package: unknown fields, wrong types and missing required
    fields are errors. Every error of every object is reported at its line, not only
    the first. A kind with no schema (upstream or ours in ``schemas/kubernetes/``) is an
    error too, since nothing would check it.

    Remediation: fix the template that writes the object.
    """
    kubernetes = ctx.profile.environment.kubernetes
    if kubernetes is None:
        return
    objects = ctx.kube_objects
    if not objects:
        return
    if not kube_schemas.available():
        raise ToolUnavailable("kubernetes-validate (its bundled schemas) is not installed")
    for obj in objects:
        kind, api_version = obj.document.get("kind"), obj.document.get("apiVersion")
        if not isinstance(kind, str) or not isinstance(api_version, str):
            yield Problem("object has no kind or apiVersion", obj.at())
            continue
        validator = kube_schemas.validator(kubernetes.version, kind, api_version)
        if validator is None:
            yield Problem(f"no schema for {kind} {api_version} in Kubernetes {kubernetes.version}", obj.at("kind"),
                          hint="an unknown kind or a removed API version")
            continue
        for error in validator.iter_errors(obj.document):
            path = tuple(error.instance_path)
            shown = ".".join(str(p) for p in path) or "(object)"
            yield Problem(f"{obj.label}: {shown}: {error.message}", obj.at(*path))
