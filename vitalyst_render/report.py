"""Report formatting: pure functions from results to text. Printing is cli.py's job."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ._version import __version__
from .checks import Finding, Report, Severity, registry
from .artefacts import group_of
from .errors import Location
from .output import FileDiff, WriteSummary
from .rendering import Rendering

FORMATS = ("text", "json", "sarif", "junit")


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


def exit_code(outcomes: list[ProfileOutcome]) -> int:
    failed = any(o.report.failed for o in outcomes)
    drifted = any(o.drift for o in outcomes)
    return 1 if failed or drifted else 0


def totals(outcomes: list[ProfileOutcome]) -> dict[str, int]:
    return {
        severity.value: sum(o.report.count(severity) for o in outcomes)
        for severity in (Severity.ERROR, Severity.WARNING, Severity.INFO)
    }


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 or word == "info" else "s")


def summary_line(outcome: ProfileOutcome) -> str:
    report = outcome.report
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
    counts = ", ".join(
        _plural(report.count(s), s.value) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)
    )
    return f"{outcome.rendering.profile}: {disk}; {counts}; {(outcome.rendering.seconds + outcome.report.seconds):.2f}s"


def total_line(outcomes: list[ProfileOutcome], seconds: float) -> str:
    counts = totals(outcomes)
    findings = ", ".join(_plural(counts[s.value], s.value) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO))
    return f"total: {_plural(len(outcomes), 'profile')}; {findings}; {seconds:.2f}s"


def text_lines(outcome: ProfileOutcome) -> list[tuple[str, Severity | None]]:
    """Lines of the text report, each with the severity that colours it."""
    lines: list[tuple[str, Severity | None]] = []
    for diff in outcome.drift:
        lines.append((f"drift: {outcome.folder}/{diff.path} ({diff.status})", Severity.ERROR))
        lines.extend((line, None) for line in diff.text.rstrip("\n").split("\n"))
    report = outcome.report
    for finding in report.findings:
        lines.append((finding.line(), finding.severity))
        for related in finding.related:
            lines.append((f"  see also {related}", None))
    for skip in report.skipped:
        lines.append((f"skipped {skip.check_id}: {skip.reason}", Severity.INFO))
    for suppressed in report.suppressed:
        lines.append(
            (f"suppressed {suppressed.check_id} ({_plural(suppressed.count, 'finding')}): {suppressed.reason}", Severity.INFO)
        )
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


def json_report(outcomes: list[ProfileOutcome]) -> str:
    document = {
        "tool": "vitalyst-render",
        "version": __version__,
        "exit_code": exit_code(outcomes),
        "totals": totals(outcomes),
        "profiles": [
            {
                "profile": o.rendering.profile,
                "out": o.folder,
                "files": sorted(o.rendering.files),
                "written": list(o.written.written) if o.written else [],
                "removed": list(o.written.removed) if o.written else [],
                "drift": [{"path": d.path, "status": d.status, "diff": d.text} for d in o.drift],
                "findings": [_finding_json(f) for f in o.report.findings],
                "skipped": [{"id": s.check_id, "reason": s.reason} for s in o.report.skipped],
                "suppressed": [
                    {"id": s.check_id, "reason": s.reason, "count": s.count} for s in o.report.suppressed
                ],
                "seconds": round(o.rendering.seconds + o.report.seconds, 3),
            }
            for o in outcomes
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def checks_table() -> list[str]:
    """One line per check: ID, severity, name, origin (vitalyst-render or the plugin), title."""
    return [f"{c.id:<8}  {c.severity.value:<7}  {c.name:<28}  {c.origin:<16}  {c.title}" for c in registry().values()]


_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _sarif_location(location: Location) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": location.file}}
    if location.line:
        physical["region"] = {"startLine": location.line, **({"startColumn": location.col} if location.col else {})}
    return {"physicalLocation": physical}


def sarif_report(outcomes: list[ProfileOutcome]) -> str:
    """SARIF 2.1.0, one run for all profiles, as code-scanning services read it."""
    checks = registry()
    results = []
    for outcome in outcomes:
        for finding in outcome.report.findings:
            result: dict[str, Any] = {
                "ruleId": finding.check_id,
                "level": _SARIF_LEVEL[finding.severity],
                "message": {"text": finding.message + (f" (hint: {finding.hint})" if finding.hint else "")},
                "locations": [_sarif_location(finding.location)],
            }
            if finding.related:
                result["relatedLocations"] = [
                    {"id": index, **_sarif_location(related)} for index, related in enumerate(finding.related)
                ]
            results.append(result)
        for diff in outcome.drift:
            results.append(
                {
                    "ruleId": "drift",
                    "level": "error",
                    "message": {"text": f"{outcome.folder}/{diff.path} is {diff.status}: re-render and commit"},
                    "locations": [_sarif_location(Location(f"{outcome.folder}/{diff.path}"))],
                }
            )
    rules = [
        {
            "id": c.id,
            "name": c.name,
            "shortDescription": {"text": c.title},
            "fullDescription": {"text": c.doc},
            "defaultConfiguration": {"level": _SARIF_LEVEL[c.severity]},
            "properties": {"origin": c.origin},
        }
        for c in checks.values()
    ]
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "vitalyst-render", "version": __version__, "rules": rules}}, "results": results}],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def junit_report(outcomes: list[ProfileOutcome]) -> str:
    """JUnit XML: a suite per profile, a test case per check; errors fail the case."""
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites", name="vitalyst-render")
    for outcome in outcomes:
        report = outcome.report
        skipped = {s.check_id: s.reason for s in report.skipped}
        suite = ET.SubElement(root, "testsuite", name=outcome.rendering.profile)
        cases = failures = skips = 0
        for check in registry().values():
            cases += 1
            case = ET.SubElement(suite, "testcase", classname=f"{outcome.rendering.profile}.{check.id}", name=check.name)
            found = [f for f in report.findings if f.check_id == check.id]
            errors = [f for f in found if f.severity is Severity.ERROR]
            if check.id in skipped:
                skips += 1
                ET.SubElement(case, "skipped", message=skipped[check.id])
            elif errors:
                failures += 1
                failure = ET.SubElement(case, "failure", message=f"{len(errors)} error finding(s)", type=check.id)
                failure.text = "\n".join(f.line() for f in errors)
            others = [f for f in found if f.severity is not Severity.ERROR]
            if others:
                ET.SubElement(case, "system-out").text = "\n".join(f.line() for f in others)
        if outcome.checked:
            cases += 1
            case = ET.SubElement(suite, "testcase", classname=f"{outcome.rendering.profile}.drift", name="drift")
            if outcome.drift:
                failures += 1
                failure = ET.SubElement(case, "failure", message=f"{len(outcome.drift)} drifted file(s)", type="drift")
                failure.text = "".join(d.text for d in outcome.drift)
        suite.set("tests", str(cases))
        suite.set("failures", str(failures))
        suite.set("skipped", str(skips))
        suite.set("errors", "0")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
