"""Strict Kubernetes JSON schemas: upstream ones bundled by ``kubernetes-validate``, and
ours in ``schemas/kubernetes/`` for kinds upstream does not publish (PrometheusRule).

Each (version, kind, apiVersion) compiles once per process with jsonschema-rs.
"""

from __future__ import annotations

import importlib.util
import json
import re
from functools import cache
from pathlib import Path

import jsonschema_rs

from .resources import data_dir


@cache
def _upstream_root() -> Path | None:
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(list(spec.submodule_search_locations)[0]) / "kubernetes-json-schema"
    return root if root.is_dir() else None


def _minor(version: str) -> tuple[int, int]:
    major, minor = re.match(r"^v?(\d+)\.(\d+)", version).groups()  # type: ignore[union-attr]
    return int(major), int(minor)


@cache
def schema_folder(version: str) -> Path | None:
    """The strict schema folder for the newest bundled version not newer than ``version``."""
    root = _upstream_root()
    if root is None:
        return None
    wanted = _minor(version)
    candidates = sorted(
        (_minor(p.name), p) for p in root.glob("v*-local-strict") if _minor(p.name) <= wanted
    )
    return candidates[-1][1] if candidates else None


def schema_file_name(kind: str, api_version: str) -> str:
    # rbac.authorization.k8s.io/v1 -> rbac-v1; apps/v1 -> apps-v1; v1 -> v1
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return f"{kind.lower()}-{group_version}.json"


@cache
def _registry(folder: Path) -> jsonschema_rs.Registry:
    """The shared definitions every schema of a version refers to, converted once."""
    definitions = json.loads((folder / "_definitions.json").read_text(encoding="utf-8"))
    return jsonschema_rs.Registry([(definitions["$id"], definitions)])


@cache
def validator(version: str, kind: str, api_version: str) -> jsonschema_rs.Validator | None:
    """A compiled validator, or None when neither upstream nor we have a schema."""
    name = schema_file_name(kind, api_version)
    ours = data_dir("schemas") / "kubernetes" / name
    if ours.is_file():
        return jsonschema_rs.validator_for(json.loads(ours.read_text(encoding="utf-8")))
    folder = schema_folder(version)
    if folder is None or not (folder / name).is_file():
        return None
    schema = json.loads((folder / name).read_text(encoding="utf-8"))
    return jsonschema_rs.validator_for(schema, registry=_registry(folder))


def available() -> bool:
    return _upstream_root() is not None
