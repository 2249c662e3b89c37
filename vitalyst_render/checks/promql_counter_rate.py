"""VR402: counters are read through rate(), irate() or increase()."""

from __future__ import annotations

from collections.abc import Iterable

import promql_parser as pql

from ._promql import COUNTER_SAFE, COUNTER_SUFFIXES, walk
from .base import Problem, Severity, check
from .context import CheckContext
from .examples import ADD_WORKER_METRICS, Edit, Expect, Fail, Pass

RULES = "prometheus/rules.yml"
_CPU_EXPR = """        expr: |-
          sum by (namespace, pod, container) (rate(container_cpu_usage_seconds_total{namespace="vitalyst", container!="", container!="POD"}[5m]))
            / on (namespace, pod, container)
          sum by (namespace, pod, container) (kube_pod_container_resource_limits{namespace="vitalyst", resource="cpu", unit="core"})
            > 0.8
"""
_RESTARTS = 'kube_pod_container_status_restarts_total{namespace=\\"vitalyst\\"}[15m]) > 0"'

EXAMPLES = (
    Fail(
        "the seed's ContainerHighCPU: the CPU-seconds counter itself compared with 0.8",
        edits=[Edit(RULES, _CPU_EXPR, "        expr: container_cpu_usage_seconds_total > 0.8\n")],
        expect=[Expect(RULES, "counter container_cpu_usage_seconds_total is used without rate(), irate() or increase()")],
    ),
    Fail(
        "a recording rule that sums the raw request counter",
        edits=[Edit(RULES, 'sum by (job) (rate(http_requests_total{job=\\"backend\\"}[5m]))', 'sum by (job) (http_requests_total{job=\\"backend\\"})')],
        expect=[Expect(RULES, "counter http_requests_total is used without rate(), irate() or increase()")],
    ),
    Pass(
        "resets() reads the raw restart counter on purpose",
        edits=[Edit(RULES, "increase(" + _RESTARTS, "resets(" + _RESTARTS)],
    ),
    Pass(
        "a worker's own request counter, added in the profile, is read through rate()",
        overlay=ADD_WORKER_METRICS,
    ),
)


@check("VR402", "promql-counter-without-rate", "counter used without rate(), irate() or increase()", Severity.ERROR,
       examples=EXAMPLES)
def counter_rate(ctx: CheckContext) -> Iterable[Problem]:
    """A counter (``*_total``, ``*_seconds_total``, ``*_count``, ``*_sum``,
    ``*_bucket``) only ever grows, so comparing or aggregating its raw value says how
    long the process has lived, not how busy it is. The seed's
    ``container_cpu_usage_seconds_total > 0.8`` was true forever after one CPU second.

    Remediation: take ``rate(counter[5m])`` (or ``increase``) first.
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
