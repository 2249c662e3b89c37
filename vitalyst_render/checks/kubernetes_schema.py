"""VR902: every Kubernetes object validates against the strict schema of its version."""

from __future__ import annotations

from typing import Iterable

from .. import kube_schemas
from ._support import kube_objects
from .base import Problem, Severity, ToolUnavailable, check


@check("VR902", "kubernetes-schema", "Kubernetes object breaks the strict schema of the target version", Severity.ERROR, tool="kubernetes-validate")
def kubernetes_schema(ctx) -> Iterable[Problem]:
    """Validates each object against the strict JSON schema of the profile's
    Kubernetes version (``environment.kubernetes.version``), as bundled by the
    ``kubernetes-validate`` package: unknown fields, wrong types and missing required
    fields are errors. Every error of every object is reported at its line, not only
    the first. A kind with no schema (upstream or ours in ``schemas/kubernetes/``) is an
    error too, since nothing would check it.

    Remediation: fix the template that writes the object.

    FAIL: a Deployment with ``spec.replicas: "3"`` or ``spec.template.spec.hostname_typo``.
    PASS: every object of the committed staging and prod output.
    """
    kubernetes = ctx.profile.environment.kubernetes
    if kubernetes is None:
        return
    objects = list(kube_objects(ctx))
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
