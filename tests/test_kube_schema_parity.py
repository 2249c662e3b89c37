"""VR902 validates Kubernetes objects with jsonschema-rs, compiled once per kind. On a
corpus of valid objects (every one we render) and invalid ones (each broken in a way a
template or a profile could break it), its verdicts are those of the reference
implementation, python-jsonschema, on the same bundled schemas: the same objects pass,
and the failures point at the same places."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from functools import cache
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource
from ruamel.yaml import YAML

from vitalyst_render import kube_schemas

from .conftest import OUT

VERSION = "1.31"


def corpus_objects() -> list[tuple[str, dict[str, Any]]]:
    """Every object we render whose schema upstream publishes (ours, such as
    PrometheusRule's, has no reference to compare with)."""
    found = []
    for path in sorted(OUT.glob("*/kubernetes/*.yaml")):
        for document in YAML(typ="safe").load_all(path.read_text(encoding="utf-8")):
            if isinstance(document, dict) and reference_validator(document["kind"], document["apiVersion"]) is not None:
                found.append((f"{path.relative_to(OUT).as_posix()}:{document['kind']}/{document['metadata']['name']}", document))
    return found


@cache
def reference_validator(kind: str, api_version: str) -> jsonschema.protocols.Validator | None:
    folder = kube_schemas.schema_folder(VERSION)
    assert folder is not None
    path = folder / kube_schemas.schema_file_name(kind, api_version)
    if not path.is_file():
        return None
    schema = json.loads(path.read_text(encoding="utf-8"))
    definitions = json.loads((folder / "_definitions.json").read_text(encoding="utf-8"))
    registry = Registry().with_resources([(definitions["$id"], Resource.from_contents(definitions))])
    return jsonschema.Draft202012Validator(schema, registry=registry)


def verdicts(document: dict[str, Any]) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """The failing instance paths by jsonschema-rs, and by python-jsonschema."""
    kind, api_version = document["kind"], document["apiVersion"]
    fast = kube_schemas.validator(VERSION, kind, api_version)
    reference = reference_validator(kind, api_version)
    assert fast is not None and reference is not None
    ours = sorted({tuple(map(str, e.instance_path)) for e in fast.iter_errors(document)})
    theirs = sorted({tuple(map(str, e.absolute_path)) for e in reference.iter_errors(document)})
    return ours, theirs


def pod_spec(document: dict[str, Any]) -> dict[str, Any] | None:
    spec = document.get("spec") or {}
    if document["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    template = spec.get("template")
    return template["spec"] if isinstance(template, dict) else None


def _containers(document: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(document)
    return spec["containers"] if spec else []


MUTATIONS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "name-not-a-string": lambda d: bool(d["metadata"].update(name=123)) or True,
    "unknown-top-level-field": lambda d: bool(d.update(spex={})) or True,
    "label-value-not-a-string": lambda d: bool(d["metadata"].setdefault("labels", {}).update(tier=7)) or True,
    "replicas-as-text": lambda d: "replicas" in (d.get("spec") or {}) and (d["spec"].update(replicas="1") or True),
    "container-without-name": lambda d: bool(_containers(d)) and (_containers(d)[0].pop("name") and True),
    "unknown-container-field": lambda d: bool(_containers(d)) and (_containers(d)[0].update(imagePullPolicyy="Always") or True),
    "port-as-text": lambda d: any(c.get("ports") for c in _containers(d))
    and (next(c for c in _containers(d) if c.get("ports"))["ports"][0].update(containerPort="80") or True),
    "probe-period-as-float": lambda d: any("readinessProbe" in c for c in _containers(d))
    and (next(c for c in _containers(d) if "readinessProbe" in c)["readinessProbe"].update(periodSeconds=1.5) or True),
    "pod-spec-not-an-object": lambda d: pod_spec(d) is not None and ((d["spec"]["jobTemplate"]["spec"] if d["kind"] == "CronJob" else d["spec"])
                                                                   ["template"].update(spec=[]) or True),
}

OBJECTS = corpus_objects()


@pytest.mark.parametrize(("name", "document"), OBJECTS, ids=[name for name, _ in OBJECTS])
def test_every_rendered_object_passes_both(name, document):
    ours, theirs = verdicts(document)
    assert ours == theirs == [], name


def broken_objects() -> list[tuple[str, dict[str, Any]]]:
    """Each rendered object broken in every way that applies to its kind."""
    found = []
    for name, document in OBJECTS:
        for mutation, change in MUTATIONS.items():
            broken = copy.deepcopy(document)
            if change(broken):
                found.append((f"{name}-{mutation}", broken))
    return found


BROKEN = broken_objects()


def test_the_corpus_covers_every_kind_and_every_way_of_breaking():
    assert {document["kind"] for _, document in OBJECTS} >= {"Deployment", "StatefulSet", "CronJob", "Service", "NetworkPolicy"}
    assert {mutation for mutation in MUTATIONS if any(name.endswith(f"-{mutation}") for name, _ in BROKEN)} == set(MUTATIONS)


@pytest.mark.parametrize(("name", "document"), BROKEN, ids=[name for name, _ in BROKEN])
def test_broken_objects_fail_both_at_the_same_places(name, document):
    ours, theirs = verdicts(document)
    assert ours, f"{name} should fail"
    assert ours == theirs
