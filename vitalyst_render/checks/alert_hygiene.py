"""VR406 and VR407: alerts carry what on-call needs, under unique names."""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import Location

from .base import Problem, Severity, check
from .context import CheckContext
from .examples import ADD_WORKER_METRICS, Edit, Expect, Fail, Pass

SEVERITIES = {"critical", "warning", "info"}
ANNOTATIONS = ("summary", "description", "runbook_url")
RULES = "prometheus/rules.yml"

EXAMPLES_VR406 = (
    Fail(
        "the seed's alert: a description, but no summary and no runbook_url",
        edits=[
            Edit(RULES, '          summary: "Container restarted"\n', ""),
            Edit(RULES, '          runbook_url: "https://git.vitalyst.example/vitalyst/deploy/blob/main/out/prod/docs/RUNBOOK.md#alert-containerrestarting"\n', ""),
        ],
        expect=[
            Expect(RULES, "alert ContainerRestarting has no summary annotation"),
            Expect(RULES, "alert ContainerRestarting has no runbook_url annotation"),
        ],
    ),
    Fail(
        "an alert without for, labelled with a severity no route knows",
        edits=[Edit(RULES, '[15m]) > 0"\n        for: "0m"\n        labels:\n          severity: warning\n',
                    '[15m]) > 0"\n        labels:\n          severity: page\n')],
        expect=[
            Expect(RULES, "alert ContainerRestarting has no for"),
            Expect(RULES, "alert ContainerRestarting has severity 'page'; expected one of ['critical', 'info', 'warning']"),
        ],
    ),
    Pass("alert_for: 0m in the profile: a for of zero, stated, is a choice", overlay="monitoring:\n  alert_for: 0m\n"),
)

EXAMPLES_VR407 = (
    Fail(
        "an alert of the container group renamed to TargetDown, the name of the targets group's alert",
        edits=[Edit(RULES, "- alert: ContainerRestarting", "- alert: TargetDown")],
        expect=[Expect(RULES, "alert TargetDown is defined twice")],
    ),
    Pass(
        "a worker with HTTP metrics added in the profile joins the one HttpHighErrorRate alert",
        overlay=ADD_WORKER_METRICS,
    ),
)


@check("VR406", "alert-metadata", "alert lacks for, a known severity, or its annotations", Severity.ERROR,
       examples=EXAMPLES_VR406)
def alert_metadata(ctx: CheckContext) -> Iterable[Problem]:
    """Every alert states ``for`` (how long the condition must hold; ``0m`` is an
    explicit choice), a ``severity`` label that Alertmanager routes (critical, warning
    or info), and ``summary``, ``description`` and ``runbook_url`` annotations.

    Remediation: add the missing field to the alert.
    """
    for expression in ctx.promql:
        rule = expression.rule
        if expression.source != "alert" or rule is None:
            continue
        name = rule.get("alert")
        if "for" not in rule:
            yield Problem(f"alert {name} has no for", expression.location, hint="for: 5m (or 0m, on purpose)")
        severity = (rule.get("labels") or {}).get("severity")
        if severity not in SEVERITIES:
            yield Problem(f"alert {name} has severity {severity!r}; expected one of {sorted(SEVERITIES)}", expression.location)
        annotations = rule.get("annotations") or {}
        for key in ANNOTATIONS:
            if not str(annotations.get(key, "")).strip():
                yield Problem(f"alert {name} has no {key} annotation", expression.location)


@check("VR407", "alert-duplicate-name", "two alert rules share a name", Severity.ERROR, examples=EXAMPLES_VR407)
def duplicate_names(ctx: CheckContext) -> Iterable[Problem]:
    """Alert names are unique across all groups of a platform's rule file. Two rules
    with one name share silences, inhibitions and runbooks, and their states overwrite
    each other in dashboards. Services of one kind share that kind's alerts, whose
    expressions cover every job. (Each platform's Prometheus loads only its own file,
    so the same alert on swarm and Kubernetes is one alert per Prometheus.)

    Remediation: rename one, or merge the conditions with ``or``.
    """
    seen: dict[tuple[str, object], Location] = {}
    for expression in ctx.promql:
        if expression.source != "alert" or expression.rule is None:
            continue
        key = (expression.location.file, expression.rule.get("alert"))
        if key in seen:
            yield Problem(f"alert {key[1]} is defined twice", expression.location, related=(seen[key],))
        else:
            seen[key] = expression.location
