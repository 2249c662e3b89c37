"""Walking Kubernetes documents as plain data: where a pod spec sits, its containers, the
Secrets it names. The checks (with positions) and ``render deploy`` (without) share these."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

#: Path elements inside a parsed document: mapping keys and list indices.
DocPath = tuple[str | int, ...]

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet"}


def pod_spec(document: dict[str, Any]) -> tuple[dict[str, Any], DocPath] | None:
    """(pod spec, its path) of a workload document; None for other kinds."""
    kind = document.get("kind")
    spec = document.get("spec")
    spec = spec if isinstance(spec, dict) else {}
    if kind == "Pod":
        return spec, ("spec",)
    if kind == "CronJob":
        pod = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
        return pod.get("spec") or {}, ("spec", "jobTemplate", "spec", "template", "spec")
    if kind in WORKLOAD_KINDS:
        return (spec.get("template") or {}).get("spec") or {}, ("spec", "template", "spec")
    return None


def containers_of(pod: dict[str, Any], prefix: DocPath) -> Iterator[tuple[dict[str, Any], DocPath]]:
    """Every container of a pod spec, init containers included, with its path."""
    for field in ("initContainers", "containers"):
        for index, container in enumerate(pod.get(field) or []):
            if isinstance(container, dict):
                yield container, prefix + (field, index)


def secret_references(pod: dict[str, Any], prefix: DocPath) -> Iterator[tuple[Any, DocPath]]:
    """(name, where) of every Secret a pod spec mounts or reads: ``secret`` volumes,
    projected sources, ``secretKeyRef`` and ``envFrom.secretRef``."""
    for index, volume in enumerate(pod.get("volumes") or []):
        if not isinstance(volume, dict):
            continue
        if "secret" in volume:
            yield (volume["secret"] or {}).get("secretName"), prefix + ("volumes", index)
        for source in ((volume.get("projected") or {}).get("sources") or []):
            if "secret" in source:
                yield (source["secret"] or {}).get("name"), prefix + ("volumes", index)
    for container, path in containers_of(pod, prefix):
        for index, variable in enumerate(container.get("env") or []):
            ref = ((variable or {}).get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                yield ref.get("name"), path + ("env", index)
        for index, source in enumerate(container.get("envFrom") or []):
            if "secretRef" in (source or {}):
                yield (source["secretRef"] or {}).get("name"), path + ("envFrom", index)
