"""Report formatting: pure functions from results to text. Printing is cli.py's job.

Every format reports a :class:`Run`: the profiles that rendered, or the bad input that
stopped the run before any did (exit 2), so CI gets a valid report in every case.
``docs/reports.md`` describes the formats; ``schemas/report.schema.json`` is the JSON's.
"""

from __future__ import annotations

import json
import posixpath
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from ._version import DOCS_URL, HOMEPAGE, __version__
from .checks import Check, Finding, Report, Severity, registry
from .artefacts import group_of
from .errors import Location, RenderError
from .output import FileDiff, WriteSummary
from .rendering import Rendering

#: The JSON report's layout version (``format_version``); raised on an incompatible change.
JSON_FORMAT_VERSION = 1
SEVERITIES = (Severity.ERROR, Severity.WARNING, Severity.INFO)


@dataclass(frozen=True)
class ReportRule:
    """Something a report says that no check finds: it needs the disk, or stopped the run."""

    id: str
    title: str
    description: str
    severity: Severity

    @property
    def help_uri(self) -> str:
        return f"{DOCS_URL}/reports.md#{self.id}"


DRIFT = ReportRule(
    "drift",
    "a file in the output folder differs from what the profile renders",
    "Under --check: the committed output is not what the profiles render now (new, deleted, changed or stale files). "
    "Render again and commit the output folder.",
    Severity.ERROR,
)
FOREIGN_FILE = ReportRule(
    "foreign-file",
    "a file that vitalyst-render did not make sits in a folder that is applied whole",
    "manifest.json does not list it and no profile renders it, yet `kubectl apply -f` of the folder would apply it. "
    "A render never touches it: move it out of the folder.",
    Severity.WARNING,
)
INPUT_ERROR = ReportRule(
    "input-error",
    "bad input stopped the run (exit 2)",
    "An invalid profile, an unknown name, an unreadable file or a refused write: nothing was rendered or written.",
    Severity.ERROR,
)
REPORT_RULES = (DRIFT, FOREIGN_FILE, INPUT_ERROR)


@dataclass(frozen=True)
class InputError:
    """Bad input that stopped the run (exit 2), as data: the one line on stderr, and its parts."""

    kind: str  # the RenderError subclass: ProfileError, UsageError, TemplateError, ArtefactError
    line: str
    message: str
    location: Location | None = None
    field: str | None = None

    @classmethod
    def of(cls, error: RenderError) -> InputError:
        kind = next(c.__name__ for c in type(error).__mro__ if not c.__name__.startswith("_"))  # a public class, not a helper's
        return cls(kind, str(error), error.message, error.location, error.field)


@dataclass(frozen=True)
class ProfileOutcome:
    """One profile's rendering and check report, plus what happened on disk (a write or a
    drift check, of the groups ``only`` when given) or that it went to stdout."""

    rendering: Rendering
    report: Report
    folder: str
    written: WriteSummary | None = None
    drift: tuple[FileDiff, ...] = field(default=())
    checked: bool = False
    only: tuple[str, ...] = ()
    streamed: bool = False
    #: Files in an applied folder that vitalyst-render did not make (output.foreign_applied).
    foreign: tuple[str, ...] = field(default=())

    @property
    def findings(self) -> tuple[Finding, ...]:
        """The checks' findings, then what the disk showed (foreign files)."""
        return self.report.findings + tuple(
            Finding(
                FOREIGN_FILE.id,
                FOREIGN_FILE.severity,
                f"not made by vitalyst-render (manifest.json does not list it), yet `kubectl apply -f {self.folder}/{group_of(path)}/` applies it",
                Location(f"{self.folder}/{path}"),
                hint="move it out of the folder",
            )
            for path in self.foreign
        )

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)


def exit_code(outcomes: Sequence[ProfileOutcome]) -> int:
    failed = any(o.report.failed for o in outcomes)
    drifted = any(o.drift for o in outcomes)
    return 1 if failed or drifted else 0


@dataclass(frozen=True)
class Run:
    """One invocation of the render command, as every format reports it."""

    outcomes: tuple[ProfileOutcome, ...] = ()
    errors: tuple[InputError, ...] = ()
    seconds: float = 0.0
    #: The command that writes what ``--check`` compared (the fix for drift).
    rerun: str = "render --all"

    @property
    def exit_code(self) -> int:
        return 2 if self.errors else exit_code(self.outcomes)

    @property
    def drifted(self) -> int:
        return sum(len(o.drift) for o in self.outcomes)

    @property
    def fix(self) -> str | None:
        """What to do about drift: render again, and commit the output root."""
        roots = sorted({o.rendering.out_prefix.rstrip("/") + "/" for o in self.outcomes if o.drift})
        return f"run `{self.rerun}` and commit {' and '.join(roots)}" if roots else None


def totals(outcomes: Sequence[ProfileOutcome]) -> dict[str, int]:
    return {severity.value: sum(o.count(severity) for o in outcomes) for severity in SEVERITIES}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 or word == "info" else "s")


def summary_line(outcome: ProfileOutcome) -> str:
    files = len(outcome.rendering.files)
    if outcome.only:
        # a subset write rewrites the manifest too; a stream holds no manifest
        files = sum(1 for path in outcome.rendering.artefacts if group_of(path) in outcome.only) + (0 if outcome.streamed else 1)
    if outcome.streamed:
        disk = f"{_plural(files, 'file')} printed to stdout, nothing written"
    elif outcome.checked:
        disk = f"{_plural(len(outcome.drift), 'drifted file')} in {outcome.folder}" if outcome.drift else f"{outcome.folder} is up to date"
    elif outcome.written is None:
        disk = "nothing written (error findings)"
    elif outcome.written.unchanged:
        disk = f"{_plural(files, 'file')} unchanged in {outcome.folder}"
    else:
        disk = f"{_plural(files, 'file')} in {outcome.folder} ({len(outcome.written.written)} written, {len(outcome.written.removed)} removed)"
    if outcome.only:
        disk += f"; --only {' '.join(outcome.only)}"
    counts = ", ".join(_plural(outcome.count(s), s.value) for s in SEVERITIES)
    return f"{outcome.rendering.profile}: {disk}; {counts}; {(outcome.rendering.seconds + outcome.report.seconds):.2f}s"


def total_line(outcomes: Sequence[ProfileOutcome], seconds: float) -> str:
    counts = totals(outcomes)
    findings = ", ".join(_plural(counts[s.value], s.value) for s in SEVERITIES)
    drift = f"{_plural(sum(len(o.drift) for o in outcomes), 'drifted file')}; " if any(o.checked for o in outcomes) else ""
    return f"total: {_plural(len(outcomes), 'profile')}; {drift}{findings}; {seconds:.2f}s"


def text_lines(outcome: ProfileOutcome) -> list[tuple[str, Severity | None]]:
    """Lines of the text report, each with the severity that colours it."""
    lines: list[tuple[str, Severity | None]] = []
    for diff in outcome.drift:
        lines.append((f"drift: {outcome.folder}/{diff.path} ({diff.status})", Severity.ERROR))
        lines.extend((line, None) for line in diff.text.rstrip("\n").split("\n"))
    for finding in outcome.findings:
        lines.append((finding.line(), finding.severity))
        for related in finding.related:
            lines.append((f"  see also {related}", None))
    report = outcome.report
    for skip in report.skipped:
        lines.append((f"skipped {skip.check_id}: {skip.reason}", Severity.INFO))
    for suppressed in report.suppressed:
        lines.append(
            (f"suppressed {suppressed.check_id} ({_plural(suppressed.count, 'finding')}): {suppressed.reason}", Severity.INFO)
        )
    return lines


def closing_lines(run: Run) -> list[tuple[str, Severity | None]]:
    """The text report's end: a summary per profile, the total, and the fix for drift."""
    lines: list[tuple[str, Severity | None]] = [(summary_line(o), None) for o in run.outcomes]
    if len(run.outcomes) > 1:
        lines.append((total_line(run.outcomes, run.seconds), None))
    if run.fix:
        lines.append((f"fix: {run.fix}", Severity.ERROR))
    return lines


def _finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.check_id,
        "severity": finding.severity.value,
        "message": finding.message,
        "file": finding.location.file,
        "line": finding.location.line,
        "col": finding.location.col,
        "hint": finding.hint,
        "related": [str(r) for r in finding.related],
    }


def _location_json(location: Location | None) -> dict[str, Any]:
    return {"file": location.file, "line": location.line, "col": location.col} if location else {"file": None, "line": 0, "col": 0}


def json_report(run: Run) -> str:
    """The JSON report; its layout is ``schemas/report.schema.json``."""
    document = {
        "format_version": JSON_FORMAT_VERSION,
        "tool": "vitalyst-render",
        "version": __version__,
        "exit_code": run.exit_code,
        "totals": {**totals(run.outcomes), "drift": run.drifted},
        "fix": run.fix,
        "errors": [
            {"kind": e.kind, "message": e.message, **_location_json(e.location), "field": e.field, "text": e.line} for e in run.errors
        ],
        "profiles": [
            {
                "profile": o.rendering.profile,
                "out": o.folder,
                "checked": o.checked,
                "files": sorted(o.rendering.files),
                "written": list(o.written.written) if o.written else [],
                "removed": list(o.written.removed) if o.written else [],
                "drift": [{"path": d.path, "status": d.status, "diff": d.text} for d in o.drift],
                "findings": [_finding_json(f) for f in o.findings],
                "skipped": [{"id": s.check_id, "reason": s.reason} for s in o.report.skipped],
                "suppressed": [
                    {
                        "id": s.check_id,
                        "reason": s.reason,
                        "count": s.count,
                        **_location_json(s.location),
                        "findings": [_finding_json(f) for f in s.findings],
                    }
                    for s in o.report.suppressed
                ],
                "seconds": round(o.rendering.seconds + o.report.seconds, 3),
            }
            for o in run.outcomes
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def checks_table() -> list[str]:
    """One line per check: ID, severity, name, origin (vitalyst-render or the plugin), title."""
    return [f"{c.id:<8}  {c.severity.value:<7}  {c.name:<28}  {c.origin:<16}  {c.title}" for c in registry().values()]


def checks_json() -> str:
    """Every check as data, for tools: what ``render --list-checks`` shows, plus the links."""
    return json.dumps(
        [
            {"id": c.id, "name": c.name, "severity": c.severity.value, "origin": c.origin, "title": c.title, "tool": c.tool, "help_uri": c.help_uri}
            for c in registry().values()
        ],
        indent=2,
        ensure_ascii=False,
    )


_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
#: Relative paths in findings are relative to the folder the render ran in.
_SRCROOT = "%SRCROOT%"
#: What the run tells about itself rather than about the artefacts (SARIF notifications).
_CHECK_SKIPPED = {"id": "check-skipped", "shortDescription": {"text": "a check did not run: its external tool is unavailable"}}
_NOTIFICATIONS = (_CHECK_SKIPPED, {"id": INPUT_ERROR.id, "shortDescription": {"text": INPUT_ERROR.title}})


def _artifact_location(path: str) -> dict[str, Any]:
    if PurePosixPath(path).is_absolute():
        return {"uri": PurePosixPath(posixpath.normpath(path)).as_uri()}
    return {"uri": quote(path), "uriBaseId": _SRCROOT}


def _sarif_location(location: Location) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": _artifact_location(location.file)}
    if location.line:
        physical["region"] = {"startLine": location.line, **({"startColumn": location.col} if location.col else {})}
    return {"physicalLocation": physical}


def _loadable_checks() -> dict[str, Check]:
    """The registry, or nothing when it cannot load (a broken plugin is itself the input error)."""
    try:
        return registry()
    except RenderError:
        return {}


def _sarif_rule(rule: Check | ReportRule) -> dict[str, Any]:
    described: dict[str, Any] = {
        "id": rule.id,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.doc if isinstance(rule, Check) else rule.description},
        "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
    }
    if isinstance(rule, Check):
        described["name"] = rule.name
        described["properties"] = {"origin": rule.origin}
    if rule.help_uri:
        described["helpUri"] = rule.help_uri
    return described


def _sarif_result(rule: str, index: dict[str, int], level: str, text: str, location: Location | None, profile: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {"ruleId": rule, "ruleIndex": index[rule], "level": level, "message": {"text": text}}
    if location is not None:
        result["locations"] = [_sarif_location(location)]
    if profile is not None:
        result["properties"] = {"profile": profile}
    return result


def _finding_result(finding: Finding, index: dict[str, int], profile: str) -> dict[str, Any]:
    text = finding.message + (f" (hint: {finding.hint})" if finding.hint else "")
    result = _sarif_result(finding.check_id, index, _SARIF_LEVEL[finding.severity], text, finding.location, profile)
    if finding.related:
        result["relatedLocations"] = [{"id": i, **_sarif_location(related)} for i, related in enumerate(finding.related)]
    return result


_DRIFT_TEXT = {
    "new": "is rendered but not in the output folder",
    "deleted": "is listed by manifest.json but missing on disk",
    "changed": "differs from what the profile renders",
    "stale": "is no longer rendered but still on disk",
}


def sarif_report(run: Run) -> str:
    """SARIF 2.1.0, one run for all profiles, as code-scanning services read it.

    Suppressed findings are results with ``suppressions``; skipped checks and bad input
    are the invocation's notifications (bad input with a location is a result as well).
    """
    described: list[Check | ReportRule] = [*_loadable_checks().values(), *REPORT_RULES]
    rules = [_sarif_rule(r) for r in described]
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    for outcome in run.outcomes:
        profile = outcome.rendering.profile
        results += [_finding_result(f, index, profile) for f in outcome.findings]
        for suppressed in outcome.report.suppressed:
            suppression: dict[str, Any] = {"kind": "external", "status": "accepted", "justification": suppressed.reason}
            if suppressed.location is not None:
                suppression["location"] = _sarif_location(suppressed.location)
            results += [{**_finding_result(f, index, profile), "suppressions": [suppression]} for f in suppressed.findings]
        for diff in outcome.drift:
            where = Location(f"{outcome.folder}/{diff.path}")
            text = f"{where.file} {_DRIFT_TEXT[diff.status]} ({diff.status}): {run.fix}"
            results.append(_sarif_result(DRIFT.id, index, "error", text, where, profile))
        for skip in outcome.report.skipped:
            notification: dict[str, Any] = {
                "level": "warning",
                "message": {"text": f"{profile}: {skip.check_id} skipped: {skip.reason}"},
                "descriptor": {"id": _CHECK_SKIPPED["id"], "index": 0},
                "properties": {"profile": profile},
            }
            if skip.check_id in index:
                notification["associatedRule"] = {"id": skip.check_id, "index": index[skip.check_id]}
            notifications.append(notification)
    for error in run.errors:
        notification = {"level": "error", "message": {"text": error.line}, "descriptor": {"id": INPUT_ERROR.id, "index": 1}}
        if error.location is not None:
            notification["locations"] = [_sarif_location(error.location)]
            # Code scanning shows results, not notifications: a located error is annotated there too.
            results.append(_sarif_result(INPUT_ERROR.id, index, "error", error.line, error.location, None))
        notifications.append(notification)
    invocation: dict[str, Any] = {"executionSuccessful": not run.errors, "exitCode": run.exit_code}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    driver = {
        "name": "vitalyst-render",
        "version": __version__,
        "semanticVersion": __version__,
        "informationUri": HOMEPAGE,
        "rules": rules,
        "notifications": list(_NOTIFICATIONS),
    }
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "invocations": [invocation], "results": results}],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def junit_report(run: Run) -> str:
    """JUnit XML: a suite per profile, a test case per check; errors fail the case,
    suppressed and skipped checks are skipped cases, bad input is an error case."""
    root = ET.Element("testsuites", name="vitalyst-render")
    for outcome in run.outcomes:
        _junit_suite(root, outcome, run)
    if run.errors:
        suite = ET.SubElement(root, "testsuite", name="input", tests=str(len(run.errors)), failures="0", errors=str(len(run.errors)), skipped="0")
        for error in run.errors:
            case = ET.SubElement(suite, "testcase", classname="input", name=INPUT_ERROR.id)
            ET.SubElement(case, "error", message=error.line, type=error.kind).text = error.line
    for attribute in ("tests", "failures", "errors"):
        root.set(attribute, str(sum(int(suite.get(attribute, "0")) for suite in root)))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def _junit_suite(root: ET.Element, outcome: ProfileOutcome, run: Run) -> None:
    profile = outcome.rendering.profile
    report = outcome.report
    skipped = {s.check_id: s.reason for s in report.skipped}
    suppressed = {s.check_id: s for s in report.suppressed}
    suite = ET.SubElement(root, "testsuite", name=profile, time=f"{outcome.rendering.seconds + report.seconds:.3f}")
    cases = failures = skips = 0

    def case(name: str, rule: str, findings: Sequence[Finding]) -> ET.Element:
        nonlocal cases, failures
        cases += 1
        element = ET.SubElement(suite, "testcase", classname=f"{profile}.{rule}", name=name)
        errors = [f for f in findings if f.severity is Severity.ERROR]
        if errors:
            failures += 1
            ET.SubElement(element, "failure", message=f"{len(errors)} error finding(s)", type=rule).text = "\n".join(f.line() for f in errors)
        others = [f for f in findings if f.severity is not Severity.ERROR]
        if others:
            ET.SubElement(element, "system-out").text = "\n".join(f.line() for f in others)
        return element

    for check in registry().values():
        element = case(check.name, check.id, [f for f in report.findings if f.check_id == check.id])
        if check.id in suppressed:
            skips += 1
            entry = suppressed[check.id]
            silenced = ET.SubElement(element, "skipped", message=f"suppressed ({_plural(entry.count, 'finding')}): {entry.reason}", type="suppressed")
            silenced.text = "\n".join(f.line() for f in entry.findings) or None
        elif check.id in skipped:
            skips += 1
            ET.SubElement(element, "skipped", message=skipped[check.id], type="tool-unavailable")
    case(FOREIGN_FILE.id, FOREIGN_FILE.id, [f for f in outcome.findings if f.check_id == FOREIGN_FILE.id])
    if outcome.checked:
        element = case(DRIFT.id, DRIFT.id, [])
        if outcome.drift:
            failures += 1
            failure = ET.SubElement(element, "failure", message=f"{_plural(len(outcome.drift), 'drifted file')}: {run.fix}", type=DRIFT.id)
            failure.text = "".join(d.text for d in outcome.drift)
    suite.set("tests", str(cases))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skips))
