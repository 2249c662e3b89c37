"""Building check contexts for tests: a rendered profile (a shipped one, or an overlay
that extends one, loaded through the real loader), with some files replaced by
hand-written or mutated text, parsed the way the renderer parses them."""

from __future__ import annotations

import copy
import hashlib
import io
import tempfile
from functools import cache
from pathlib import Path
from typing import Any, Callable

from ruamel.yaml import YAML

import vitalyst_render as vr
from vitalyst_render.artefacts import Artefact, parse_artefact
from vitalyst_render.checks import registry
from vitalyst_render.checks.context import CheckContext
from vitalyst_render.checks.examples import example_rendering

REPO = Path(__file__).resolve().parent.parent.parent
_OVERLAYS = Path(tempfile.mkdtemp(prefix="vr-overlays-"))


@cache
def rendered(profile: str) -> vr.Rendering:
    """A shipped profile by name, or a test profile under tests/profiles/ by file name.
    ``prod`` is pinned by the check examples' image lock, as a user's prod is after
    ``render pin``; ``prod-as-shipped`` is the repository's unpinned prod."""
    path = REPO / "tests" / "profiles" / f"{profile}.yaml"
    if path.is_file():
        return vr.render(vr.load_profile(path))
    return example_rendering(profile, None)


@cache
def overlay(text: str, name: str = "overlay") -> vr.Rendering:
    """The rendering of a profile file ``name``.yaml holding ``text`` (which extends one)."""
    folder = _OVERLAYS / hashlib.sha256(text.encode()).hexdigest()[:12]
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return vr.render(vr.load_profile(path))


def context_of(result: vr.Rendering, replace: dict[str, str] | None = None) -> CheckContext:
    artefacts = dict(result.artefacts)
    for path, text in (replace or {}).items():
        old = artefacts[path]
        artefacts[path] = parse_artefact(Artefact(path, text, old.template, old.syntax, old.parse_as))
    return CheckContext(result.loaded, result.plan, artefacts, result.folder)


def context(profile: str = "prod", replace: dict[str, str] | None = None) -> CheckContext:
    return context_of(rendered(profile), replace)


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
