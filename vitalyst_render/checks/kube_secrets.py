"""VR315: manifests reference Secrets the profile declares and never carry secret data."""

from __future__ import annotations

from collections.abc import Iterable
from ..kube import secret_references
from .base import Problem, Severity, check
from .context import CheckContext, pod_template
from .examples import ADD_WORKER, Edit, Expect, Fail, Pass

BACKEND = "kubernetes/backend.yaml"
NAMESPACE = "kubernetes/namespace.yaml"
SECRET_IN_GIT = """
---
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: vitalyst-staging
stringData:
  password: hunter2
"""

EXAMPLES = (
    Fail(
        "a Secret whose password is written into the manifest",
        profile="staging",
        edits=[Edit(NAMESPACE, "    pod-security.kubernetes.io/warn: restricted\n",
                    "    pod-security.kubernetes.io/warn: restricted\n" + SECRET_IN_GIT.lstrip("\n"))],
        expect=[Expect(NAMESPACE, "Secret db carries data in the manifest")],
    ),
    Fail(
        "a container that reads DB_PASSWORD from a Secret the profile does not declare",
        profile="staging",
        edits=[Edit(BACKEND, "          env:\n",
                    "          env:\n            - name: DB_PASSWORD\n              valueFrom:\n"
                    "                secretKeyRef: {name: db, key: password}\n")],
        expect=[Expect(BACKEND, "Deployment backend uses Secret 'db', which the profile does not declare")],
    ),
    Fail(
        "a secret volume and an envFrom for Secrets the profile does not declare",
        profile="staging",
        edits=[
            Edit(BACKEND, "            secretName: neo4j-auth\n", "            secretName: neo4j-password\n"),
            Edit(BACKEND, "          env:\n", "          envFrom:\n            - secretRef: {name: backend-env}\n          env:\n"),
        ],
        expect=[
            Expect(BACKEND, "Deployment backend uses Secret 'neo4j-password', which the profile does not declare"),
            Expect(BACKEND, "Deployment backend uses Secret 'backend-env', which the profile does not declare"),
        ],
    ),
    Pass("a worker added in the profile mounts the declared neo4j-auth Secret", overlay=ADD_WORKER),
)


@check("VR315", "k8s-secrets", "manifest carries secret data or refers to an undeclared Secret", Severity.ERROR, examples=EXAMPLES)
def secrets(ctx: CheckContext) -> Iterable[Problem]:
    """No ``Secret`` object with ``data`` or ``stringData`` (values would land in git),
    and every Secret a pod mounts or reads (``secret`` volumes, ``secretKeyRef``,
    ``envFrom.secretRef``, projected sources) is declared in the profile's ``secrets``.

    Remediation: create Secrets out of band (see docs/operations.md) and declare their
    names in the profile.
    """
    declared = set(ctx.profile.secrets)
    for obj in ctx.kube_objects:
        if obj.kind == "Secret" and (obj.document.get("data") or obj.document.get("stringData")):
            yield Problem(f"Secret {obj.name} carries data in the manifest", obj.at("data" if "data" in obj.document else "stringData"),
                          hint="create Secrets out of band; reference them by name")
        found = pod_template(obj)
        if found is None:
            continue
        for name, path in secret_references(*found):
            if name not in declared:
                yield Problem(f"{obj.label} uses Secret {name!r}, which the profile does not declare", obj.at(*path))
