"""Run the registered checks over one render: stamp IDs and severities, apply suppressions."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from ..errors import Location, ProfileError
from ..profile.loader import field_path
from .base import BUILT_IN, Check, Finding, Problem, Report, Severity, Skip, Suppressed, ToolUnavailable, registry
from .context import CheckContext


#: Enough threads for every adapter at once, plus some for the checks in Python.
_THREADS = 12


def validate_suppressions(context: CheckContext) -> None:
    """A suppression must name a registered check: a typo would silence nothing."""
    known = registry()
    for index, suppression in enumerate(context.profile.checks.suppress):
        if suppression.id not in known:
            path = ("checks", "suppress", index, "id")
            raise ProfileError(
                f"unknown check ID {suppression.id!r} (see render --list-checks)",
                context.loaded.positions.value(path),
                field_path(path),
            )


def _timed(check: Check, context: CheckContext, tools: bool) -> tuple[list[Problem] | ToolUnavailable, float]:
    started = time.perf_counter()
    outcome = _run_one(check, context, tools)
    return outcome, time.perf_counter() - started


def _run_one(check: Check, context: CheckContext, tools: bool) -> list[Problem] | ToolUnavailable:
    if check.tool is not None and not tools:
        return ToolUnavailable(f"external tools are off (tools=False); {check.tool} not run")
    try:
        return list(check.function(context))
    except ToolUnavailable as exc:
        return exc
    except Exception as exc:
        if check.origin == BUILT_IN:
            raise  # our bug: let it show
        # A plugin's bug must not take the render down with a traceback: it is a finding.
        return [Problem(f"check {check.id} of {check.origin} crashed: {type(exc).__name__}: {exc}", Location(check.origin),
                        severity=Severity.ERROR)]


def run_checks(context: CheckContext, *, tools: bool = True, strict_tools: bool = False) -> Report:
    """Run every registered check (adapters too, unless ``tools`` is false); the
    context says whether tool verdicts come from a cache."""
    started = time.perf_counter()
    validate_suppressions(context)
    suppress = {s.id: s.reason for s in context.profile.checks.suppress}
    findings: list[Finding] = []
    skipped: list[Skip] = []
    silenced: dict[str, list[Finding]] = {}
    checks = list(registry().values())
    # Adapters wait on external processes; running checks side by side overlaps them.
    # They start first, each on its own thread, and the checks in Python fill the gaps.
    started_first = sorted(checks, key=lambda check: check.tool is None)
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        done = dict(zip((c.id for c in started_first), pool.map(lambda check: _timed(check, context, tools), started_first)))
    timed = [done[check.id] for check in checks]
    for check, (outcome, _) in zip(checks, timed):
        if isinstance(outcome, ToolUnavailable):
            if not strict_tools:
                skipped.append(Skip(check.id, str(outcome)))
                continue
            outcome = [Problem(f"required tool unavailable: {outcome}", Location(check.tool or check.name), severity=Severity.ERROR)]
        for problem in outcome:
            finding = Finding(check.id, problem.severity or check.severity, problem.message, problem.location, problem.hint, problem.related)
            (silenced.setdefault(check.id, []) if check.id in suppress else findings).append(finding)
    suppressed = tuple(
        Suppressed(i, suppress[i], tuple(sorted(silenced.get(i, []), key=_reading_order)), _suppression_site(context, i))
        for i in sorted(suppress)
    )
    timings = tuple((check.id, seconds) for check, (_, seconds) in zip(checks, timed))
    return Report(tuple(sorted(findings, key=_reading_order)), tuple(skipped), suppressed, time.perf_counter() - started, timings)


def _reading_order(finding: Finding) -> tuple[str, int, int, str, str]:
    return (finding.location.file, finding.location.line, finding.location.col, finding.check_id, finding.message)


def _suppression_site(context: CheckContext, check_id: str) -> Location:
    """Where the profile suppresses ``check_id``: the ``id`` of its (last) entry."""
    entries = context.profile.checks.suppress
    index = max(i for i, s in enumerate(entries) if s.id == check_id)
    return context.loaded.positions.value(("checks", "suppress", index, "id"))
