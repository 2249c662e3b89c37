"""Render: validated profile → stack plan → rendered and parsed-back files, in memory.

Nothing here runs a subprocess or writes a file; the only I/O is the engine reading
templates. Checking the result is :mod:`vitalyst_render.checks.runner`'s job.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ._version import __version__
from .artefacts import MANIFEST, Artefact, Blame, ParseFailure, parse_artefact
from .boundary import name_problem
from .engine import Engine
from .errors import Location, TemplateError
from .plan import StackPlan, build_plan
from .profile.loader import LoadedProfile
from .roles import registry as roles
from .targets import Job, Target
from .timings import Phases, Stopwatch


@dataclass(frozen=True)
class Rendering:
    """Everything one profile renders to, ready to check, write or diff.

    It is read-only: ``files`` and ``artefacts`` are read-only views of copies made when
    it is created (``dataclasses.replace`` included), so no one can change what a
    rendering holds after the fact; ``write`` and ``diff`` check every name again anyway.
    """

    loaded: LoadedProfile
    plan: StackPlan
    artefacts: Mapping[str, Artefact]
    files: Mapping[str, bytes]
    out_prefix: str = "out"
    seconds: float = field(default=0.0, compare=False)
    phases: Phases = field(default=(), compare=False)  # plan, render (templates), parse (back), in seconds

    def __post_init__(self) -> None:
        for name in ("artefacts", "files"):
            value = getattr(self, name)
            if isinstance(value, Mapping):
                object.__setattr__(self, name, MappingProxyType(dict(value.items())))

    @property
    def profile(self) -> str:
        """The profile's name, which is also its output folder's name."""
        return self.loaded.name

    @property
    def folder(self) -> str:
        """Where findings say the files are: ``out/<profile>``."""
        return posixpath.join(self.out_prefix, self.loaded.name)


def render_profile(loaded: LoadedProfile, engine: Engine, targets: Sequence[Target], *, out_prefix: str = "out") -> Rendering:
    started = time.perf_counter()
    stopwatch = Stopwatch()
    with stopwatch.phase("plan"):
        plan = build_plan(loaded, roles())
    artefacts = _render_artefacts(plan, engine, targets, out_prefix, stopwatch)
    with stopwatch.phase("render"):
        files = {path: artefact.text.encode("utf-8") for path, artefact in sorted(artefacts.items())}
        files[MANIFEST] = manifest(loaded, files)
    return Rendering(loaded, plan, artefacts, files, out_prefix, time.perf_counter() - started, stopwatch.phases())


def _render_artefacts(plan: StackPlan, engine: Engine, targets: Sequence[Target], out: str, stopwatch: Stopwatch) -> dict[str, Artefact]:
    # The only names a template sees, besides its job's own context.
    base = {"profile": plan.profile, "profile_name": plan.name, "plan": plan}
    rendered: dict[str, str] = {}
    artefacts: dict[str, Artefact] = {}
    for target in targets:
        with stopwatch.phase("plan"):
            jobs = list(target.jobs(plan, out))
        for job in jobs:
            check_output_path(job.path)
            if job.path in artefacts:
                raise TemplateError(f"two jobs write {job.path!r} (the second from target {target.name!r})")
            # A read-only view rather than a copy per job (which grew with the square of the
            # files): a template looks up files rendered before it, which the view holds.
            with stopwatch.phase("render"):
                context = {**base, "files": MappingProxyType(rendered), **job.context}
                text = engine.render(job.template, job.syntax, context).text
            artefact = Artefact(job.path, text, job.template, job.syntax, job.parse_as)
            with stopwatch.phase("parse"):
                # Before the file joins the view: a blame re-renders with what the job saw.
                artefacts[job.path] = parse_artefact(artefact, _blamer(job, engine, context))
            rendered[job.path] = text
    return artefacts


def check_output_path(path: str) -> None:
    problem = name_problem(path)
    if path == MANIFEST:
        problem = "is the manifest's"
    if problem is not None:
        raise TemplateError(f"target wants to write outside its profile folder: {path!r} (the name {problem})")


def _blamer(job: Job, engine: Engine, context: dict[str, Any]) -> Blame:
    def blame(message: str, line: int, col: int) -> ParseFailure:
        origins = engine.origins(job.template, job.syntax, context)
        template, template_line = origins[line - 1] if 0 < line <= len(origins) else (engine.shown(job.template), 0)
        return ParseFailure(message, Location(job.path, line, col), Location(template, template_line))

    return blame


def file_digests(files: Mapping[str, bytes]) -> dict[str, str]:
    """Each file's manifest entry: ``sha256:`` and the hex digest of its bytes."""
    return {path: "sha256:" + hashlib.sha256(data).hexdigest() for path, data in files.items()}


def manifest(loaded: LoadedProfile, files: Mapping[str, bytes]) -> bytes:
    return manifest_of(loaded, file_digests(files))


def manifest_of(loaded: LoadedProfile, entries: Mapping[str, object]) -> bytes:
    """The manifest bytes for ``entries`` (path → its ``sha256:...``), as a render writes them."""
    document = {
        "generator": "vitalyst-render",
        "version": __version__,
        "profile": loaded.name,
        "profile_digest": loaded.digest,
        "files": dict(sorted(entries.items())),
    }
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")
