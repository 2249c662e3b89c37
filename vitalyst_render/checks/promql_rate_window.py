"""VR405: rate windows span at least four scrape intervals."""

from __future__ import annotations

from collections.abc import Iterable

import promql_parser as pql

from ..profile.types import duration_seconds
from ._promql import RATE_FUNCTIONS, walk
from .base import Problem, Severity, check
from .context import CheckContext
from .examples import Expect, Fail, Pass

RULES = "prometheus/rules.yml"
SWARM_RULES = "prometheus/swarm/rules.yml"
DASHBOARD = "grafana/dashboards/overview.json"
SWARM_DASHBOARD = "grafana/dashboards/overview-swarm.json"
_TOO_SHORT = "rate() over 300s is shorter than 4 × scrape_interval (480s)"

EXAMPLES = (
    Fail(
        "a restart window of 1m in the profile, two scrapes at the 30s interval",
        overlay="monitoring:\n  thresholds:\n    restart_window: 1m\n",
        expect=[Expect(RULES, "increase() over 60s is shorter than 4 × scrape_interval (120s)")],
    ),
    Fail(
        "a scrape interval of 2m in the profile leaves the 5m rates with two samples",
        overlay="monitoring:\n  scrape_interval: 2m\n",
        expect=[
            *(expect for rules in (RULES, SWARM_RULES)
              for expect in [*[Expect(rules, _TOO_SHORT)] * 5, Expect(rules, "increase() over 300s is shorter than 4 × scrape_interval (480s)")]),
            *[Expect(DASHBOARD, _TOO_SHORT)] * 2,
            *[Expect(SWARM_DASHBOARD, _TOO_SHORT)] * 2,
        ],
    ),
    Pass(
        "a restart window of exactly four scrape intervals (2m at 30s)",
        overlay="monitoring:\n  thresholds:\n    restart_window: 2m\n",
    ),
)


@check("VR405", "promql-rate-window", "rate() window is shorter than four scrape intervals", Severity.WARNING,
       examples=EXAMPLES)
def rate_window(ctx: CheckContext) -> Iterable[Problem]:
    """``rate()``, ``irate()`` and ``increase()`` need at least two samples in their
    window, and a missed scrape must not empty it: four scrape intervals is the usual
    floor. Shorter windows make alerts flap or go silent.

    Remediation: widen the window (5m at the default 30s interval), or scrape more
    often.
    """
    floor = 4 * duration_seconds(ctx.profile.monitoring.scrape_interval)
    for expression in ctx.promql:
        tree = expression.tree
        if isinstance(tree, Exception):
            continue
        for node, _ in walk(tree):
            if isinstance(node, pql.Call) and node.func.name in RATE_FUNCTIONS:
                for argument in node.args:
                    if isinstance(argument, pql.MatrixSelector) and argument.range.total_seconds() < floor:
                        yield Problem(f"{node.func.name}() over {argument.range.total_seconds():g}s is shorter than "
                                      f"4 × scrape_interval ({floor:g}s)", expression.location)
