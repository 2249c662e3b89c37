"""VR401: every PromQL expression parses."""

from __future__ import annotations

from collections.abc import Iterable

from .base import Problem, Severity, check
from .context import CheckContext
from .examples import Edit, Expect, Fail, Pass

RULES = "prometheus/rules.yml"
DASHBOARD = "grafana/dashboards/overview.json"
_RESTART_EXPR = 'expr: "increase(kube_pod_container_status_restarts_total{namespace=\\"vitalyst\\"}[15m]) > 0"'

EXAMPLES = (
    Fail(
        "a dashboard panel query with an unclosed parenthesis",
        edits=[Edit(DASHBOARD, '"expr": "up"', '"expr": "sum(up"')],
        expect=[Expect(DASHBOARD, "panel expression does not parse: unclosed left parenthesis")],
    ),
    Fail(
        "an alert expression with an unclosed parenthesis",
        edits=[Edit(RULES, _RESTART_EXPR, _RESTART_EXPR.replace("[15m])", "[15m]"))],
        expect=[Expect(RULES, "alert expression does not parse: unclosed left parenthesis")],
    ),
    Pass(
        "a panel query with a subquery and an offset",
        edits=[Edit(DASHBOARD, '"expr": "up"', '"expr": "max_over_time(up[1h:5m] offset 1d)"')],
    ),
)


@check("VR401", "promql-parse", "PromQL expression does not parse", Severity.ERROR, examples=EXAMPLES)
def promql_parse(ctx: CheckContext) -> Iterable[Problem]:
    """Every alert, recording rule and dashboard panel expression parses as PromQL
    (``promql-parser``). Dashboards are not checked by promtool at all, so a broken
    panel query would otherwise surface only as an empty graph.

    Remediation: fix the expression; the parser's message says what it expected.
    """
    for expression in ctx.promql:
        parsed = expression.tree
        if isinstance(parsed, Exception):
            yield Problem(f"{expression.source} expression does not parse: {parsed}", expression.location)
