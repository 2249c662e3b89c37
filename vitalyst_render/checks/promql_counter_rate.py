"""VR402: counters are read through rate(), irate() or increase()."""

from __future__ import annotations

from typing import Iterable

import promql_parser as pql

from ._promql import COUNTER_SAFE, COUNTER_SUFFIXES, walk
from .base import Problem, Severity, check


@check("VR402", "promql-counter-without-rate", "counter used without rate(), irate() or increase()", Severity.ERROR)
def counter_rate(ctx) -> Iterable[Problem]:
    """A counter (``*_total``, ``*_seconds_total``, ``*_count``, ``*_sum``,
    ``*_bucket``) only ever grows, so comparing or aggregating its raw value says how
    long the process has lived, not how busy it is. The seed's
    ``container_cpu_usage_seconds_total > 0.8`` was true forever after one CPU second.

    Remediation: take ``rate(counter[5m])`` (or ``increase``) first.

    FAIL: ``container_cpu_usage_seconds_total > 0.8``; ``sum(http_requests_total)``.
    PASS: ``rate(container_cpu_usage_seconds_total[5m]) > 0.8``.
    """
    for expression in ctx.promql:
        tree = expression.tree
        if isinstance(tree, Exception):
            continue
        for node, ancestors in walk(tree):
            if not isinstance(node, pql.VectorSelector) or not (node.name or "").endswith(COUNTER_SUFFIXES):
                continue
            if any(isinstance(a, pql.Call) and a.func.name in COUNTER_SAFE for a in ancestors):
                continue
            yield Problem(f"counter {node.name} is used without rate(), irate() or increase()", expression.location,
                          hint=f"rate({node.name}[5m])")
