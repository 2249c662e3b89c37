"""VR403: byte counts are not compared with ratios."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import promql_parser as pql

from ._promql import is_comparison, walk
from .base import Problem, Severity, check
from .context import CheckContext
from .examples import Edit, Expect, Fail, Pass

RULES = "prometheus/rules.yml"
_WORKING_SET = 'sum by (namespace, pod, container) (container_memory_working_set_bytes{namespace="vitalyst", container!="", container!="POD"})'
_MEMORY_RATIO = (
    _WORKING_SET + "\n"
    "            / on (namespace, pod, container)\n"
    '          sum by (namespace, pod, container) (kube_pod_container_resource_limits{namespace="vitalyst", resource="memory", unit="byte"})\n'
)
_FREE_RATIO = """          kubelet_volume_stats_available_bytes{namespace="vitalyst"}
            / kubelet_volume_stats_capacity_bytes{namespace="vitalyst"}
            < 0.1"""

EXAMPLES = (
    Fail(
        "the seed's ContainerHighMemory: usage in bytes compared with 0.85",
        edits=[Edit(RULES, "        expr: |-\n          " + _MEMORY_RATIO + "            > 0.85\n",
                    "        expr: container_memory_usage_bytes > 0.85\n")],
        expect=[Expect(RULES, "container_memory_usage_bytes (bytes) is compared with 0.85, a ratio")],
    ),
    Fail(
        "the working set's 5m peak, summed per container, compared with 0.85 without dividing by the limit",
        edits=[Edit(RULES, _MEMORY_RATIO,
                    'sum by (namespace, pod, container) (max_over_time(container_memory_working_set_bytes{namespace="vitalyst", '
                    'container!="", container!="POD"}[5m]))\n')],
        expect=[Expect(RULES, "container_memory_working_set_bytes (bytes) is compared with 0.85, a ratio")],
    ),
    Pass(
        "free space compared with an absolute number of bytes (5e9)",
        edits=[Edit(RULES, _FREE_RATIO, '          kubelet_volume_stats_available_bytes{namespace="vitalyst"} < 5e9')],
    ),
)


def _bytes_metric(node: Any) -> str | None:
    """The *_bytes metric a node is, unchanged in unit (selectors, parens, sum/max/...)."""
    if isinstance(node, pql.VectorSelector):
        return node.name if (node.name or "").endswith("_bytes") else None
    if isinstance(node, pql.ParenExpr):
        return _bytes_metric(node.expr)
    if isinstance(node, pql.AggregateExpr) and str(node.op).strip() in ("sum", "max", "min", "avg"):
        return _bytes_metric(node.expr)
    if isinstance(node, pql.Call) and node.func.name in _UNIT_KEEPING and node.args:
        inner = node.args[-1]
        return _bytes_metric(inner.vector_selector if isinstance(inner, pql.MatrixSelector) else inner)
    return None


#: Functions whose result is in the unit of their argument.
_UNIT_KEEPING = {"max_over_time", "min_over_time", "avg_over_time", "last_over_time", "quantile_over_time", "abs", "ceil", "floor", "round"}


@check("VR403", "promql-bytes-vs-ratio", "a byte count is compared with a number below 1", Severity.ERROR,
       examples=EXAMPLES)
def bytes_ratio(ctx: CheckContext) -> Iterable[Problem]:
    """A ``*_bytes`` series compared with a number between 0 and 1 is always true (or always
    false): bytes are not a ratio. The seed's ``container_memory_usage_bytes > 0.85``
    fired for every container. Divide by the limit first.

    Remediation: ``container_memory_working_set_bytes / container_spec_memory_limit_bytes > 0.85``.
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
