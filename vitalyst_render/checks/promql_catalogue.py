"""VR404: every metric an expression reads is one an exporter of the profile provides."""

from __future__ import annotations

from typing import Iterable

import promql_parser as pql

from ._promql import BUILT_IN, walk
from .base import Problem, Severity, check


@check("VR404", "promql-unknown-metric", "expression reads a metric no declared exporter provides", Severity.ERROR)
def unknown_metric(ctx) -> Iterable[Problem]:
    """Every metric name in a rule or panel is in the catalogue of a scrape job on the
    profile's platform (a service's ``metrics.catalogue``, its kind's defaults, or an
    infrastructure exporter's ``metrics``), or is a recording rule of the same file. A misspelt or imaginary metric returns nothing, so
    its alert can never fire: the seed's ``container_restart_count`` does not exist.

    Remediation: use the exporter's real metric name, or declare the exporter (and its
    scrape job) that provides it.

    FAIL: ``rate(container_restart_count[5m]) > 0``.
    PASS: ``increase(kube_pod_container_status_restarts_total[15m]) > 0`` with kube-state-metrics declared.
    """
    known = set(BUILT_IN) | set(ctx.plan.metrics_provided)
    all_expressions = ctx.promql
    known |= {e.rule["record"] for e in all_expressions if e.rule and "record" in e.rule}
    for expression in all_expressions:
        tree = expression.tree
        if isinstance(tree, Exception):
            continue
        for node, _ in walk(tree):
            if isinstance(node, pql.VectorSelector) and node.name and node.name not in known:
                yield Problem(f"metric {node.name} is not exported by any declared exporter", expression.location,
                              hint="see monitoring.exporters in the profile")
