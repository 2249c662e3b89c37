"""VR315: manifests reference Secrets the profile declares and never carry secret data."""

from __future__ import annotations

from typing import Iterable

from ._support import containers, kube_objects, pod_template
from .base import Problem, Severity, check


@check("VR315", "k8s-secrets", "manifest carries secret data or refers to an undeclared Secret", Severity.ERROR)
def secrets(ctx) -> Iterable[Problem]:
    """No ``Secret`` object with ``data`` or ``stringData`` (values would land in git),
    and every Secret a pod mounts or reads (``secret`` volumes, ``secretKeyRef``,
    ``envFrom.secretRef``, projected sources) is declared in the profile's ``secrets``.

    Remediation: create Secrets out of band (see docs/operations.md) and declare their
    names in the profile.

    FAIL: ``kind: Secret`` with ``stringData: {password: hunter2}``; ``secretName: db-pass`` not in the profile.
    PASS: ``volumes: [{secret: {secretName: neo4j-auth}}]`` with ``neo4j-auth`` declared.
    """
    declared = set(ctx.profile.secrets)
    for obj in kube_objects(ctx):
        if obj.kind == "Secret" and (obj.document.get("data") or obj.document.get("stringData")):
            yield Problem(f"Secret {obj.name} carries data in the manifest", obj.at("data" if "data" in obj.document else "stringData"),
                          hint="create Secrets out of band; reference them by name")
        found = pod_template(obj)
        if found is None:
            continue
        pod, prefix = found
        referenced: list[tuple[str, tuple]] = []
        for index, volume in enumerate(pod.get("volumes") or []):
            if not isinstance(volume, dict):
                continue
            if "secret" in volume:
                referenced.append(((volume["secret"] or {}).get("secretName"), prefix + ("volumes", index)))
            for source in ((volume.get("projected") or {}).get("sources") or []):
                if "secret" in source:
                    referenced.append(((source["secret"] or {}).get("name"), prefix + ("volumes", index)))
        for container, path in containers(pod, prefix):
            for index, variable in enumerate(container.get("env") or []):
                ref = ((variable or {}).get("valueFrom") or {}).get("secretKeyRef")
                if ref:
                    referenced.append((ref.get("name"), path + ("env", index)))
            for index, source in enumerate(container.get("envFrom") or []):
                if "secretRef" in (source or {}):
                    referenced.append(((source["secretRef"] or {}).get("name"), path + ("envFrom", index)))
        for name, path in referenced:
            if name not in declared:
                yield Problem(f"{obj.label} uses Secret {name!r}, which the profile does not declare", obj.at(*path))
