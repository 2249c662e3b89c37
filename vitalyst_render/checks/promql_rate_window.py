"""VR405: rate windows span at least four scrape intervals."""

from __future__ import annotations

from typing import Iterable

import promql_parser as pql

from ..profile.types import duration_seconds
from ._promql import RATE_FUNCTIONS, walk
from .base import Problem, Severity, check


@check("VR405", "promql-rate-window", "rate() window is shorter than four scrape intervals", Severity.WARNING)
def rate_window(ctx) -> Iterable[Problem]:
    """``rate()``, ``irate()`` and ``increase()`` need at least two samples in their
    window, and a missed scrape must not empty it: four scrape intervals is the usual
    floor. Shorter windows make alerts flap or go silent.

    Remediation: widen the window (5m at the default 30s interval).

    FAIL: ``rate(x_total[1m])`` with ``scrape_interval: 30s``.
    PASS: ``rate(x_total[5m])``.
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
