"""VR607: alerts stand on scraped metrics, compare ratios of limits, and reach someone."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import promql_parser as pql


from ._promql import is_comparison, walk
from .base import Problem, Severity, check
from .context import CheckContext
from .examples import ADD_CACHE, Edit, Expect, Fail, Pass

#: Denominators that make a ratio meaningful: a limit, a capacity, a maximum, or a total.
_BOUND = re.compile(r"limit|capacity|max|quota|period|requests", re.IGNORECASE)

PROMETHEUS = "prometheus/prometheus.yml"
RULES = "prometheus/rules.yml"
ALERTMANAGER = "prometheus/alertmanager.yml"
_MEMORY_RATIO = 'redis_memory_used_bytes{job=\\"redis\\"} / (redis_memory_max_bytes{job=\\"redis\\"} > 0) > 0.9'
_REJECTED = '[5m]) > 0"\n        for: "0m"\n        labels:\n          severity: warning\n'


#: Under noeviction, Redis alerts on memory near maxmemory.
_NOEVICTION = "services:\n  redis:\n    config:\n      maxmemory_policy: noeviction\n"


def _unscraped(sources: str) -> list[Expect]:
    return [Expect(RULES, f"alert {alert} reads {metric} from {sources}, which {PROMETHEUS} does not scrape")
            for alert, metric in (("RedisDown", "redis_up"), ("RedisEvictingHeavily", "redis_evicted_keys_total"),
                                  ("RedisRejectedConnections", "redis_rejected_connections_total"))]


EXAMPLES = (
    Fail("alerts on redis_exporter metrics when prometheus.yml has no job named redis", profile="staging",
         edits=[Edit(PROMETHEUS, "job_name: redis\n", "job_name: redis-exporter\n")], expect=_unscraped("redis")),
    Fail("a second Redis: the shared Redis alerts when neither Redis has its scrape job", overlay=ADD_CACHE,
         edits=[Edit(PROMETHEUS, "job_name: redis\n", "job_name: redis-exporter\n"),
                Edit(PROMETHEUS, "job_name: cache\n", "job_name: cache-exporter\n")],
         expect=_unscraped("cache, redis")),
    Fail("a memory alert that compares raw bytes with 0.9", profile="staging", overlay=_NOEVICTION,
         edits=[Edit(RULES, _MEMORY_RATIO, 'redis_memory_used_bytes{job=\\"redis\\"} > 0.9')],
         expect=[Expect(RULES, "alert RedisMemoryNearMax compares with 0.9 without dividing by a limit or total")]),
    Fail("a ratio whose denominator is not a limit (clients, not maxmemory)", profile="staging", overlay=_NOEVICTION,
         edits=[Edit(RULES, _MEMORY_RATIO, 'redis_memory_used_bytes{job=\\"redis\\"} / redis_connected_clients{job=\\"redis\\"} > 0.9')],
         expect=[Expect(RULES, "alert RedisMemoryNearMax compares with 0.9 without dividing by a limit or total")]),
    Fail("severity info when only critical and warning are routed, and the root receiver has no integration", profile="staging",
         edits=[Edit(RULES, _REJECTED, _REJECTED.replace("warning", "info")),
                Edit(ALERTMANAGER, "route:\n  receiver: oncall\n", "route:\n  receiver: blackhole\n"),
                Edit(ALERTMANAGER, "receivers:\n", "receivers:\n  - name: blackhole\n")],
         expect=[Expect(RULES, "alert RedisRejectedConnections has severity 'info', which no Alertmanager route sends anywhere")]),
    Pass("severity info with no route of its own: the root route's receiver catches it", profile="staging",
         edits=[Edit(RULES, _REJECTED, _REJECTED.replace("warning", "info"))]),
    Pass("a second Redis added in the profile: its exporter's job feeds the shared Redis alerts", overlay=ADD_CACHE),
    Pass("a p99 latency of half a second and an eviction rate below one key per second are no ratios",
         overlay="monitoring:\n  thresholds:\n    latency_p99_seconds: 0.5\n"
                 "services:\n  redis:\n    config: {maxmemory_policy: allkeys-lru, evictions_alert_rate: 0.5}\n"),
)


def _metric_names(node: Any) -> set[str]:
    return {n.name for n, _ in walk(node) if isinstance(n, pql.VectorSelector) and n.name}


@check("VR607", "cross-alert-coverage", "an alert reads unscraped metrics, a ratio has no limit, or a severity reaches no receiver", Severity.ERROR,
       examples=EXAMPLES)
def alert_coverage(ctx: CheckContext) -> Iterable[Problem]:
    """Across rules, scrape config and Alertmanager:

    * every metric an alert reads comes from an exporter that ``prometheus.yml``
      actually scrapes (declared is not enough; VR404 checks declaration);
    * a threshold between 0 and 1 compares a ratio whose denominator is a limit,
      capacity, maximum or total, never a raw value (a latency quantile or a per-second
      rate, directly or through a recording rule, has a unit of its own and is no ratio);
    * every severity an alert carries reaches a receiver that has an integration, by
      a severity route or through the root route.

    Remediation: add the scrape job, divide by the limit, or route the severity.
    """
    alerting = ctx.artefact(ALERTMANAGER)
    routed = _routed_severities(alerting.data) if alerting is not None else set()
    scraped: dict[str, tuple[Any, set[Any], dict[str, set[str]], dict[str, Any]]] = {}
    for files in ctx.monitoring:
        config = files.config
        jobs: set[Any] = {job.get("job_name") for job in (config.data.get("scrape_configs") or [])} if config else set()
        records = {e.rule["record"]: e.tree for e in ctx.promql if e.monitoring is files.plan and e.rule and "record" in e.rule}
        scraped[files.plan.platform] = (config, jobs, files.plan.metrics_provided, records)
    for expression in ctx.promql:
        if expression.source != "alert" or expression.rule is None or expression.monitoring is None or expression.monitoring.platform not in scraped:
            continue
        tree = expression.tree
        if isinstance(tree, Exception):
            continue
        config, jobs, provided, records = scraped[expression.monitoring.platform]
        name = expression.rule.get("alert")
        for metric in sorted(_metric_names(tree) - records.keys()):
            sources = provided.get(metric)
            if config is not None and sources and not sources & jobs:
                yield Problem(f"alert {name} reads {metric} from {', '.join(sorted(sources))}, which {config.path} does not scrape",
                              expression.location, related=(ctx.location(config.path),))
        for node, _ in walk(tree):
            if not is_comparison(node):
                continue
            for side, other in ((node.lhs, node.rhs), (node.rhs, node.lhs)):
                if isinstance(other, pql.NumberLiteral) and 0 < other.val < 1 and not _in_own_unit(side, records):
                    division = _division(side)
                    if division is None or not any(_BOUND.search(m) for m in _metric_names(division.rhs)):
                        yield Problem(f"alert {name} compares with {other.val:g} without dividing by a limit or total",
                                      expression.location, hint="threshold ratios need usage / limit")
        severity = (expression.rule.get("labels") or {}).get("severity")
        if alerting is not None and severity and "*" not in routed and severity not in routed:
            yield Problem(f"alert {name} has severity {severity!r}, which no Alertmanager route sends anywhere",
                          expression.location, related=(ctx.location(alerting.path),))


def _routed_severities(config: dict[str, Any]) -> set[str]:
    """Severities some route delivers to a receiver with integrations; "*" when the
    root route's receiver catches everything."""
    receivers = {r.get("name"): r for r in config.get("receivers") or []}

    def delivers(name: str | None) -> bool:
        receiver = receivers.get(name) or {}
        return any(key.endswith("_configs") and value for key, value in receiver.items())

    root = config.get("route") or {}
    routed = {"*"} if delivers(root.get("receiver")) else set()
    for route in root.get("routes") or []:
        if not delivers(route.get("receiver", root.get("receiver"))):
            continue
        for matcher in route.get("matchers") or []:
            match = re.match(r'severity\s*=~?\s*"?([^"]*)"?', str(matcher).strip())
            if match:
                routed |= set(match.group(1).split("|"))
        for key in ("match", "match_re"):
            value = (route.get(key) or {}).get("severity")
            if value:
                routed |= set(str(value).split("|"))
    return routed


#: Functions whose result has a unit of its own (seconds, per second), below 1 as often as above.
_OWN_UNIT = ("histogram_quantile", "rate", "irate", "deriv")


def _in_own_unit(node: Any, records: dict[str, Any], depth: int = 0) -> bool:
    """A latency or a per-second rate, directly or through a recording rule: 0.5 there is half
    a second or one event every two seconds, not a ratio missing its limit."""
    while isinstance(node, (pql.ParenExpr, pql.AggregateExpr)):
        node = node.expr
    if isinstance(node, pql.Call):
        return node.func.name in _OWN_UNIT
    if isinstance(node, pql.VectorSelector) and node.name in records and depth < 8:
        recorded = records[node.name]
        return not isinstance(recorded, Exception) and _division(recorded) is None and _in_own_unit(recorded, records, depth + 1)
    return False


def _division(node: Any) -> Any:
    while isinstance(node, pql.ParenExpr):
        node = node.expr
    if isinstance(node, pql.BinaryExpr) and str(node.op).strip() == "/":
        return node
    return None
