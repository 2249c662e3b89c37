"""VR404: every metric an expression reads is one an exporter of the profile provides."""

from __future__ import annotations

from collections.abc import Iterable

import promql_parser as pql

from ._promql import BUILT_IN, walk
from .base import Problem, Severity, check
from .context import CheckContext
from .examples import ADD_WORKER_METRICS, Edit, Expect, Fail, Pass

RULES = "prometheus/rules.yml"
DASHBOARD = "grafana/dashboards/overview.json"

EXAMPLES = (
    Fail(
        "the seed's ContainerRestarting reads container_restart_count, which no exporter has",
        edits=[Edit(RULES, 'expr: "increase(kube_pod_container_status_restarts_total{namespace=\\"vitalyst\\"}[15m]) > 0"',
                    'expr: "rate(container_restart_count[5m]) > 0"')],
        expect=[Expect(RULES, "metric container_restart_count is not exported by any declared exporter")],
    ),
    Fail(
        "a redis exporter catalogue in the profile that leaves out the maxmemory gauge its alert and panels read",
        overlay="""services:
  redis:
    config:
      maxmemory_policy: noeviction
    exporter:
      catalogue: [redis_up, redis_memory_used_bytes, redis_rejected_connections_total, redis_evicted_keys_total]
""",
        expect=[
            Expect(path, "metric redis_memory_max_bytes is not exported by any declared exporter")
            for path in (RULES, "prometheus/swarm/rules.yml", DASHBOARD, "grafana/dashboards/overview-swarm.json")
        ],
    ),
    Fail(
        "a compose profile's rule reading kube-state-metrics, which runs on Kubernetes only",
        profile="dev",
        edits=[Edit(RULES, 'changes(container_start_time_seconds{container_label_com_docker_compose_project=\\"vitalyst\\"}[15m]) > 0',
                    "increase(kube_pod_container_status_restarts_total[15m]) > 0")],
        expect=[Expect(RULES, "metric kube_pod_container_status_restarts_total is not exported by any declared exporter")],
    ),
    Pass(
        "a worker added in the profile with its own metrics: its recording rules read its catalogue",
        overlay=ADD_WORKER_METRICS,
    ),
)


@check("VR404", "promql-unknown-metric", "expression reads a metric no declared exporter provides", Severity.ERROR,
       examples=EXAMPLES)
def unknown_metric(ctx: CheckContext) -> Iterable[Problem]:
    """Every metric name in a rule or panel is in the catalogue of a scrape job on the
    platform whose rules or dashboard hold it (a service's ``metrics.catalogue``, its kind's defaults, or an
    infrastructure exporter's ``metrics``), or is a recording rule of the same file.
    A misspelt or imaginary metric returns nothing, so its alert can never fire: the
    seed's ``container_restart_count`` does not exist.

    Remediation: use the exporter's real metric name, or declare the exporter (and its
    scrape job) that provides it.
    """
    all_expressions = ctx.promql
    known: dict[str | None, set[str]] = {}
    for files in ctx.monitoring:
        known[files.plan.platform] = set(BUILT_IN) | set(files.plan.metrics_provided)
        known[files.plan.platform] |= {e.rule["record"] for e in all_expressions
                              if e.monitoring is files.plan and e.rule and "record" in e.rule}
    for expression in all_expressions:
        tree = expression.tree
        if isinstance(tree, Exception):
            continue
        names = known.get(expression.monitoring.platform if expression.monitoring else None, set(BUILT_IN))
        for node, _ in walk(tree):
            if isinstance(node, pql.VectorSelector) and node.name and node.name not in names:
                yield Problem(f"metric {node.name} is not exported by any declared exporter", expression.location,
                              hint="see monitoring.exporters in the profile")
