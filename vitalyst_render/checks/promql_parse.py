"""VR401: every PromQL expression parses."""

from __future__ import annotations

from typing import Iterable


from .base import Problem, Severity, check


@check("VR401", "promql-parse", "PromQL expression does not parse", Severity.ERROR)
def promql_parse(ctx) -> Iterable[Problem]:
    """Every alert, recording rule and dashboard panel expression parses as PromQL
    (``promql-parser``). Dashboards are not checked by promtool at all, so a broken
    panel query would otherwise surface only as an empty graph.

    Remediation: fix the expression; the parser's message says what it expected.

    FAIL: ``rate(http_requests_total[5m]``.
    PASS: ``sum by (job) (rate(http_requests_total[5m]))``.
    """
    for expression in ctx.promql:
        parsed = expression.tree
        if isinstance(parsed, Exception):
            yield Problem(f"{expression.source} expression does not parse: {parsed}", expression.location)
