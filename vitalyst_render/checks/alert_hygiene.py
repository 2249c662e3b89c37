"""VR406 and VR407: alerts carry what on-call needs, under unique names."""

from __future__ import annotations

from typing import Iterable


from .base import Problem, Severity, check

SEVERITIES = {"critical", "warning", "info"}
ANNOTATIONS = ("summary", "description", "runbook_url")


@check("VR406", "alert-metadata", "alert lacks for, a known severity, or its annotations", Severity.ERROR)
def alert_metadata(ctx) -> Iterable[Problem]:
    """Every alert states ``for`` (how long the condition must hold; ``0m`` is an
    explicit choice), a ``severity`` label that Alertmanager routes (critical, warning
    or info), and ``summary``, ``description`` and ``runbook_url`` annotations.

    Remediation: add the missing field to the alert.

    FAIL: the seed's alerts: no ``runbook_url``, no ``summary``.
    PASS: ``for: 5m``, ``labels: {severity: warning}``, all three annotations.
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


@check("VR407", "alert-duplicate-name", "two alert rules share a name", Severity.ERROR)
def duplicate_names(ctx) -> Iterable[Problem]:
    """Alert names are unique across all groups. Two rules with one name share silences,
    inhibitions and runbooks, and their states overwrite each other in dashboards.

    Remediation: rename one, or merge the conditions with ``or``.

    FAIL: two ``alert: TargetDown`` rules.
    PASS: one ``TargetDown`` whose expression covers every job.
    """
    seen: dict[str, object] = {}
    for expression in ctx.promql:
        if expression.source != "alert" or expression.rule is None:
            continue
        name = expression.rule.get("alert")
        if name in seen:
            yield Problem(f"alert {name} is defined twice", expression.location, related=(seen[name],))
        else:
            seen[name] = expression.location
