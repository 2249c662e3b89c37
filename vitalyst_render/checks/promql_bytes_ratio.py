"""VR403: byte counts are not compared with ratios."""

from __future__ import annotations

from typing import Any, Iterable

import promql_parser as pql

from ._promql import is_comparison, walk
from .base import Problem, Severity, check


def _bytes_metric(node: Any) -> str | None:
    """The *_bytes metric a node is, unchanged in unit (selectors, parens, sum/max/...)."""
    if isinstance(node, pql.VectorSelector):
        return node.name if (node.name or "").endswith("_bytes") else None
    if isinstance(node, pql.ParenExpr):
        return _bytes_metric(node.expr)
    if isinstance(node, pql.AggregateExpr) and node.op.__str__().strip() in ("sum", "max", "min", "avg"):
        return _bytes_metric(node.expr)
    if isinstance(node, pql.Call) and node.func.name in _UNIT_KEEPING and node.args:
        inner = node.args[-1]
        return _bytes_metric(inner.vector_selector if isinstance(inner, pql.MatrixSelector) else inner)
    return None


#: Functions whose result is in the unit of their argument.
_UNIT_KEEPING = {"max_over_time", "min_over_time", "avg_over_time", "last_over_time", "quantile_over_time", "abs", "ceil", "floor", "round"}


@check("VR403", "promql-bytes-vs-ratio", "a byte count is compared with a number below 1", Severity.ERROR)
def bytes_ratio(ctx) -> Iterable[Problem]:
    """A ``*_bytes`` series compared with a number between 0 and 1 is always true (or always
    false): bytes are not a ratio. The seed's ``container_memory_usage_bytes > 0.85``
    fired for every container. Divide by the limit first.

    Remediation: ``container_memory_working_set_bytes / container_spec_memory_limit_bytes > 0.85``.

    FAIL: ``container_memory_usage_bytes > 0.85``.
    PASS: ``working_set_bytes / limit_bytes > 0.85``; ``free_bytes < 1e9``.
    """
    for expression in ctx.promql:
        tree = expression.tree
        if isinstance(tree, Exception):
            continue
        for node, _ in walk(tree):
            if not is_comparison(node):
                continue
            for side, other in ((node.lhs, node.rhs), (node.rhs, node.lhs)):
                metric = _bytes_metric(side)
                if metric and isinstance(other, pql.NumberLiteral) and 0 < abs(other.val) < 1:
                    yield Problem(f"{metric} (bytes) is compared with {other.val:g}, a ratio", expression.location,
                                  hint="divide by the matching limit or capacity first")
