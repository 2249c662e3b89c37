"""VR001: every YAML and JSON artefact parses back."""

from __future__ import annotations

from typing import Iterable

from .base import Problem, Severity, check


@check("VR001", "artefact-parses", "rendered YAML/JSON artefact does not parse", Severity.ERROR)
def artefact_parses(ctx) -> Iterable[Problem]:
    """Every YAML and JSON artefact is parsed back after rendering.

    Values are quoted by the engine, so a parse failure is a bug in a template, not
    in the profile. The finding points at the template line that produced the broken
    output line, with the rendered location as related.

    Remediation: fix the template named in the finding.

    FAIL: a template line ``ports: [{{ a }}, {{ b }}`` (missing ``]``).
    PASS: ``ports: {{ ports|flow_list }}``.
    """
    for artefact in ctx.artefacts.values():
        failure = artefact.parse_error
        if failure is None:
            continue
        rendered = ctx.location(artefact.path, failure.rendered.line, failure.rendered.col)
        yield Problem(
            f"{failure.message} (rendered at {rendered})",
            failure.template,
            hint="this is a template bug; the line above produced the broken output",
            related=(rendered,),
        )
