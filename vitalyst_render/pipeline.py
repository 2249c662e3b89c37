"""The pure middle of the pipeline: validated profile → rendered, parsed, checked files.

Nothing here touches the file system except through the engine's template loader and
the external tools that adapters run on in-memory text.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from . import __version__, dockerfile
from .checks import Finding, Problem, Severity, Skip, Suppressed, ToolUnavailable, registry
from .engine import Engine
from .errors import Location, ProfileError, TemplateError
from .profile.loader import LoadedProfile, field_path
from .probes import exporter_command, probe_command
from .profile.types import cpu_millis, duration_seconds, memory_bytes
from .targets import TARGETS, Job
from .yamlsource import Positions, YamlSourceError, load_yaml, load_yaml_stream

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ParseFailure:
    message: str
    rendered: Location
    template: Location


@dataclass(frozen=True)
class Artefact:
    """One rendered file, parsed back when its syntax allows."""

    path: str
    text: str
    template: str
    syntax: str
    parse_as: str
    data: Any = None
    positions: Any = None  # Positions, or a list of them for a YAML stream
    parse_error: ParseFailure | None = None

    @property
    def documents(self) -> list[tuple[Any, Positions]]:
        """A YAML stream's (document, positions) pairs; empty when unparsed."""
        if self.parse_as != "yaml-stream" or self.parse_error is not None:
            return []
        return list(zip(self.data, self.positions))


@dataclass(frozen=True)
class CheckContext:
    """What every check sees: the profile and every artefact of one render."""

    loaded: LoadedProfile
    artefacts: dict[str, Artefact]
    out_prefix: str

    @property
    def profile(self):  # noqa: ANN201 - Profile, kept lazy for import order
        return self.loaded.profile

    def location(self, path: str, line: int = 0, col: int = 0) -> Location:
        """A location in a rendered file, as users see it (``out/prod/...``)."""
        return Location(posixpath.join(self.out_prefix, path), line, col)

    def of_syntax(self, *kinds: str) -> list[Artefact]:
        return [a for a in self.artefacts.values() if a.syntax in kinds]

    def parsed(self, parse_as: str) -> list[Artefact]:
        """Artefacts of one parse kind that parsed (unparsed ones are VR001's business)."""
        return [a for a in self.artefacts.values() if a.parse_as == parse_as and a.parse_error is None and a.data is not None]

    def artefact(self, path: str) -> Artefact | None:
        found = self.artefacts.get(path)
        return found if found is not None and found.parse_error is None else None


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...] = ()
    skipped: tuple[Skip, ...] = ()
    suppressed: tuple[Suppressed, ...] = ()

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    @property
    def failed(self) -> bool:
        return self.count(Severity.ERROR) > 0


@dataclass(frozen=True)
class RenderResult:
    """Everything one profile renders to, ready to write or diff."""

    profile: str
    files: dict[str, bytes]
    artefacts: dict[str, Artefact]
    report: Report
    seconds: float = field(default=0.0, compare=False)


def render_profile(
    loaded: LoadedProfile,
    engine: Engine,
    *,
    out_prefix: str = "out",
    run_checks: bool = True,
    strict_tools: bool = False,
) -> RenderResult:
    started = time.perf_counter()
    _check_suppressions(loaded)
    artefacts = _render_artefacts(loaded, engine, out_prefix)
    prefix = posixpath.join(out_prefix, loaded.name)
    context = CheckContext(loaded, artefacts, prefix)
    report = run(context, strict_tools=strict_tools) if run_checks else Report()
    files = {path: artefact.text.encode("utf-8") for path, artefact in sorted(artefacts.items())}
    files[MANIFEST] = manifest(loaded, files)
    return RenderResult(loaded.name, files, artefacts, report, time.perf_counter() - started)


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
            _check_output_path(job)
            context = {**base, "files": dict(rendered), **job.context}
            text = engine.render(job.template, job.syntax, context).text
            rendered[job.path] = text
            artefacts[job.path] = _parse(job, text, engine, context)
    return artefacts


def _check_output_path(job: Job) -> None:
    normalised = posixpath.normpath(job.path)
    if job.path.startswith("/") or normalised != job.path or normalised.startswith("..") or job.path == MANIFEST:
        raise TemplateError(f"target wants to write outside its profile folder: {job.path!r}")


def _parse(job: Job, text: str, engine: Engine, context: dict[str, Any]) -> Artefact:
    artefact = Artefact(job.path, text, job.template, job.syntax, job.parse_as)
    try:
        if job.parse_as == "yaml":
            data, positions = load_yaml(text, job.path, fast=True)
            return _with(artefact, data=data, positions=positions)
        if job.parse_as == "yaml-stream":
            documents = load_yaml_stream(text, job.path, fast=True)
            return _with(artefact, data=[d for d, _ in documents], positions=[p for _, p in documents])
        if job.parse_as == "json":
            return _with(artefact, data=json.loads(text))
        if job.parse_as == "dockerfile":
            return _with(artefact, data=dockerfile.parse(text))
    except YamlSourceError as exc:
        return _with(artefact, parse_error=_blame(job, engine, context, exc.message, exc.line, exc.col))
    except json.JSONDecodeError as exc:
        return _with(artefact, parse_error=_blame(job, engine, context, f"invalid JSON: {exc.msg}", exc.lineno, exc.colno))
    return artefact


def _with(artefact: Artefact, **changes: Any) -> Artefact:
    return Artefact(**{**artefact.__dict__, **changes})


def _blame(job: Job, engine: Engine, context: dict[str, Any], message: str, line: int, col: int) -> ParseFailure:
    origins = engine.origins(job.template, job.syntax, context)
    template, template_line = origins[line - 1] if 0 < line <= len(origins) else (f"templates/{job.template}", 0)
    return ParseFailure(message, Location(job.path, line, col), Location(template, template_line))


def manifest(loaded: LoadedProfile, files: dict[str, bytes]) -> bytes:
    document = {
        "generator": "vitalyst-render",
        "version": __version__,
        "profile": loaded.name,
        "profile_digest": loaded.digest,
        "files": {path: "sha256:" + hashlib.sha256(data).hexdigest() for path, data in sorted(files.items())},
    }
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _check_suppressions(loaded: LoadedProfile) -> None:
    known = registry()
    for index, suppression in enumerate(loaded.profile.checks.suppress):
        if suppression.id not in known:
            path = ("checks", "suppress", index, "id")
            raise ProfileError(
                f"unknown check ID {suppression.id!r} (see render --list-checks)", loaded.positions.value(path), field_path(path)
            )


def _run_one(check, context: CheckContext) -> list[Problem] | ToolUnavailable:  # noqa: ANN001
    try:
        return list(check.function(context))
    except ToolUnavailable as exc:
        return exc


def run(context: CheckContext, *, strict_tools: bool = False) -> Report:
    """Run every registered check; stamp IDs and severities; apply suppressions."""
    suppress = {s.id: s.reason for s in context.profile.checks.suppress}
    findings: list[Finding] = []
    skipped: list[Skip] = []
    silenced: dict[str, int] = {}
    checks = list(registry().values())
    # Adapters wait on external processes; running checks side by side overlaps them.
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(lambda check: _run_one(check, context), checks))
    for check, outcome in zip(checks, outcomes):
        if isinstance(outcome, ToolUnavailable):
            if not strict_tools:
                skipped.append(Skip(check.id, str(outcome)))
                continue
            outcome = [Problem(f"required tool unavailable: {outcome}", Location(check.tool or check.name), severity=Severity.ERROR)]
        for problem in outcome:
            if check.id in suppress:
                silenced[check.id] = silenced.get(check.id, 0) + 1
                continue
            findings.append(
                Finding(check.id, problem.severity or check.severity, problem.message, problem.location, problem.hint, problem.related)
            )
    findings.sort(key=lambda f: (f.location.file, f.location.line, f.location.col, f.check_id, f.message))
    suppressed = tuple(Suppressed(i, suppress[i], silenced.get(i, 0)) for i in sorted(suppress))
    return Report(tuple(findings), tuple(skipped), suppressed)


__all__ = ["Artefact", "CheckContext", "RenderResult", "Report", "render_profile"]
