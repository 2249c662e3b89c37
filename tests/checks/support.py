"""Building check contexts for PASS/FAIL tests: a rendered profile with some files
replaced by hand-written or mutated text, parsed the way the pipeline parses them."""

from __future__ import annotations

import copy
import io
from functools import cache
from typing import Any, Callable

from ruamel.yaml import YAML

import vitalyst_render as vr
from vitalyst_render.artefacts import Artefact, parse_artefact
from vitalyst_render.checks import registry
from vitalyst_render.checks.context import CheckContext


@cache
def rendered(profile: str) -> vr.Rendering:
    return vr.render(vr.load_profile(profile))


def context(profile: str = "prod", replace: dict[str, str] | None = None) -> CheckContext:
    result = rendered(profile)
    artefacts = dict(result.artefacts)
    for path, text in (replace or {}).items():
        old = artefacts[path]
        artefacts[path] = parse_artefact(Artefact(path, text, old.template, old.syntax, old.parse_as))
    return CheckContext(vr.load_profile(profile), artefacts, f"out/{profile}")


def dump_yaml(data: Any, stream_of_documents: bool = False) -> str:
    stream = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    if stream_of_documents:
        yaml.dump_all(data, stream)
    else:
        yaml.dump(data, stream)
    return stream.getvalue()


def mutated(profile: str, path: str, change: Callable[[Any], None]) -> CheckContext:
    """The profile's context with one YAML artefact (or stream) changed in place by ``change``."""
    artefact = rendered(profile).artefacts[path]
    data = copy.deepcopy(artefact.data)
    change(data)
    return context(profile, {path: dump_yaml(data, artefact.parse_as == "yaml-stream")})


def kind(documents: list, wanted: str, name: str | None = None) -> dict:
    """The first document of a stream with this kind (and name)."""
    return next(d for d in documents if d["kind"] == wanted and (name is None or d["metadata"]["name"] == name))


def first_container(documents: list, workload: str = "Deployment") -> dict:
    return kind(documents, workload)["spec"]["template"]["spec"]["containers"][0]


def problems(check_id: str, ctx: CheckContext) -> list:
    return list(registry()[check_id].function(ctx))
