"""Render: validated profile → rendered and parsed-back files, in memory.

Nothing here runs a subprocess or writes a file; the only I/O is the engine reading
templates. Checking the result is :mod:`vitalyst_render.checks.runner`'s job.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import time
from dataclasses import dataclass, field
from typing import Any

from ._version import __version__
from .artefacts import MANIFEST, Artefact, ParseFailure, parse_artefact
from .engine import Engine
from .errors import Location, TemplateError
from .probes import exporter_command, probe_command
from .profile.loader import LoadedProfile
from .profile.types import cpu_millis, duration_seconds, memory_bytes
from .targets import TARGETS, Job


@dataclass(frozen=True)
class Rendering:
    """Everything one profile renders to, ready to check, write or diff."""

    loaded: LoadedProfile
    artefacts: dict[str, Artefact]
    files: dict[str, bytes]
    out_prefix: str = "out"
    seconds: float = field(default=0.0, compare=False)

    @property
    def profile(self) -> str:
        """The profile's name, which is also its output folder's name."""
        return self.loaded.name

    @property
    def folder(self) -> str:
        """Where findings say the files are: ``out/<profile>``."""
        return posixpath.join(self.out_prefix, self.loaded.name)


def render_profile(loaded: LoadedProfile, engine: Engine, *, out_prefix: str = "out") -> Rendering:
    started = time.perf_counter()
    artefacts = _render_artefacts(loaded, engine, out_prefix)
    files = {path: artefact.text.encode("utf-8") for path, artefact in sorted(artefacts.items())}
    files[MANIFEST] = manifest(loaded, files)
    return Rendering(loaded, artefacts, files, out_prefix, time.perf_counter() - started)


def template_context(loaded: LoadedProfile) -> dict[str, Any]:
    """The only names a template can see, besides its job's own context."""
    return {
        "profile": loaded.profile,
        "profile_name": loaded.name,
        "seconds": duration_seconds,
        "cpu_millis": cpu_millis,
        "memory_bytes": memory_bytes,
        "probe_command": probe_command,
        "exporter_command": exporter_command,
    }


def _render_artefacts(loaded: LoadedProfile, engine: Engine, out: str) -> dict[str, Artefact]:
    base = template_context(loaded)
    rendered: dict[str, str] = {}
    artefacts: dict[str, Artefact] = {}
    for target in TARGETS:
        for job in target.jobs(loaded, out):
            check_output_path(job.path)
            context = {**base, "files": dict(rendered), **job.context}
            text = engine.render(job.template, job.syntax, context).text
            rendered[job.path] = text
            artefact = Artefact(job.path, text, job.template, job.syntax, job.parse_as)
            artefacts[job.path] = parse_artefact(artefact, _blamer(job, engine, context))
    return artefacts


def check_output_path(path: str) -> None:
    normalised = posixpath.normpath(path)
    if path.startswith("/") or normalised != path or normalised.startswith("..") or path == MANIFEST:
        raise TemplateError(f"target wants to write outside its profile folder: {path!r}")


def _blamer(job: Job, engine: Engine, context: dict[str, Any]):  # noqa: ANN202
    def blame(message: str, line: int, col: int) -> ParseFailure:
        origins = engine.origins(job.template, job.syntax, context)
        template, template_line = origins[line - 1] if 0 < line <= len(origins) else (f"templates/{job.template}", 0)
        return ParseFailure(message, Location(job.path, line, col), Location(template, template_line))

    return blame


def manifest(loaded: LoadedProfile, files: dict[str, bytes]) -> bytes:
    document = {
        "generator": "vitalyst-render",
        "version": __version__,
        "profile": loaded.name,
        "profile_digest": loaded.digest,
        "files": {path: "sha256:" + hashlib.sha256(data).hexdigest() for path, data in sorted(files.items())},
    }
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")
