"""VR001: every YAML and JSON artefact parses back."""

from __future__ import annotations

from collections.abc import Iterable

from .base import Problem, Severity, check
from .context import CheckContext
from .examples import Edit, Expect, Fail, Pass

EXAMPLES = (
    Fail(
        "a YAML flow list the template never closes",
        edits=[Edit("prometheus/prometheus.yml", "rule_files:\n  - rules.yml\n", "rule_files: [rules.yml\n")],
        expect=[Expect("prometheus.yml.j2", "invalid YAML: the '[' here is never closed: add ']', or a ',' between its items "
                                           "(rendered at out/prod/prometheus/prometheus.yml:11:13)")],
    ),
    Fail(
        "a Python boolean rendered raw into a JSON dashboard",
        edits=[Edit("grafana/dashboards/overview.json", '"editable": false,', '"editable": False,')],
        expect=[Expect("overview.json.j2", "invalid JSON: Expecting value (rendered at out/prod/grafana/dashboards/overview.json:11:15)")],
    ),
    Pass(
        "profile text full of YAML syntax (# [ ] : { } & *) is quoted by the engine and parses",
        overlay='services:\n  backend:\n    env: {LOG_LEVEL: "info # [x]: {y} - &a *b"}\n',
    ),
)


@check("VR001", "artefact-parses", "rendered YAML/JSON artefact does not parse", Severity.ERROR, examples=EXAMPLES)
def artefact_parses(ctx: CheckContext) -> Iterable[Problem]:
    """Every YAML and JSON artefact is parsed back after rendering.

    Values are quoted by the engine, so a parse failure is a bug in a template, not
    in the profile. The finding points at the template line that produced the broken
    output line, with the rendered location as related.

    Remediation: fix the template named in the finding.
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
