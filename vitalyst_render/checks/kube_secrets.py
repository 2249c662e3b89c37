"""VR315: manifests reference Secrets the profile declares and never carry secret data."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..kube import containers_of, secret_references
from .base import Problem, Severity, check
from .context import CheckContext, pod_template
from .examples import ADD_WORKER, Edit, Expect, Fail, Pass

BACKEND = "kubernetes/backend.yaml"
NAMESPACE = "kubernetes/namespace.yaml"
_PROJECTED_MOUNT = "            - name: secrets\n              mountPath: /run/secrets\n              readOnly: true\n"
_SUBPATH_MOUNT = ("            - name: secret-neo4j-auth\n              mountPath: /run/secrets/neo4j-auth\n"
                  "              subPath: value\n              readOnly: true\n")
_PROJECTED_VOLUME = "        - name: secrets\n          projected:\n"
_SECRET_VOLUME = ("        - name: secret-neo4j-auth\n          secret: {secretName: neo4j-auth, defaultMode: 288}\n"
                  "        - name: secrets\n          projected:\n")
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
            Edit(BACKEND, "                  name: neo4j-auth\n", "                  name: neo4j-password\n"),
            Edit(BACKEND, "          env:\n", "          envFrom:\n            - secretRef: {name: backend-env}\n          env:\n"),
        ],
        expect=[
            Expect(BACKEND, "Deployment backend uses Secret 'neo4j-password', which the profile does not declare"),
            Expect(BACKEND, "Deployment backend uses Secret 'backend-env', which the profile does not declare"),
        ],
    ),
    Fail(
        "the old template: each Secret mounted with subPath at its file, which rotation never reaches",
        profile="staging",
        edits=[Edit(BACKEND, _PROJECTED_MOUNT, _SUBPATH_MOUNT), Edit(BACKEND, _PROJECTED_VOLUME, _SECRET_VOLUME)],
        expect=[Expect(BACKEND, "Deployment backend container 'backend' mounts Secret neo4j-auth with subPath at "
                                "/run/secrets/neo4j-auth: kubelet never updates a subPath mount, so a rotated value "
                                "reaches it only when the pod is replaced")],
    ),
    Pass("a worker added in the profile mounts the declared neo4j-auth Secret", overlay=ADD_WORKER),
    Pass("the projected /run/secrets directory the templates render (no subPath)", profile="staging"),
)


@check("VR315", "k8s-secrets", "manifest carries secret data or refers to an undeclared Secret", Severity.ERROR, examples=EXAMPLES)
def secrets(ctx: CheckContext) -> Iterable[Problem]:
    """No ``Secret`` object with ``data`` or ``stringData`` (values would land in git),
    and every Secret a pod mounts or reads (``secret`` volumes, ``secretKeyRef``,
    ``envFrom.secretRef``, projected sources) is declared in the profile's ``secrets``.
    No container mounts a Secret (a ``secret`` volume, or a projected one with a
    Secret source) with ``subPath``: kubelet updates the files of a Secret volume when
    the Secret changes, but never a subPath mount, so a rotated value would reach the
    container only when its pod is replaced.

    Remediation: create Secrets out of band (see docs/operations.md) and declare their
    names in the profile; mount secrets as the projected ``/run/secrets`` directory the
    templates render (each key at ``/run/secrets/<name>``), never with ``subPath``.
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
        pod, prefix = found
        secret_volumes = {v.get("name"): _secret_names(v) for v in pod.get("volumes") or [] if isinstance(v, dict)}
        for container, path in containers_of(pod, prefix):
            for index, mount in enumerate(container.get("volumeMounts") or []):
                names = secret_volumes.get((mount or {}).get("name")) if isinstance(mount, dict) else None
                if names and mount.get("subPath"):
                    yield Problem(f"{obj.label} container {container.get('name')!r} mounts Secret {', '.join(names)} with subPath at "
                                  f"{mount.get('mountPath')}: kubelet never updates a subPath mount, so a rotated value reaches it "
                                  "only when the pod is replaced", obj.at(*path, "volumeMounts", index, "subPath"),
                                  hint="mount the secrets volume as a directory (projected, items key → path), without subPath")


def _secret_names(volume: dict[str, Any]) -> list[str]:
    """The Secrets a volume holds: a secret volume's, or a projected volume's sources'."""
    if "secret" in volume:
        return [str((volume["secret"] or {}).get("secretName"))]
    sources = (volume.get("projected") or {}).get("sources") or []
    return [str((source["secret"] or {}).get("name")) for source in sources if isinstance(source, dict) and "secret" in source]
