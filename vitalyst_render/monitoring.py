"""The alerting model: rules and their promtool unit tests, built together from a profile.

Each alert is written once, with the scenarios that prove it: one where it must fire
(with the exact labels and annotations Prometheus will produce) and one where it must
stay silent. ``rules.yml``, the ``PrometheusRule`` object and ``rules.test.yml`` are all
dumped from these structures, so a rule cannot drift from its test.

Kubernetes profiles use cAdvisor (through the kubelet) and kube-state-metrics v2 names
with ``namespace``/``pod``/``container`` labels; compose and swarm profiles use the
cAdvisor-only forms keyed by container ``name``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .profile.models import Profile
from .profile.types import cpu_millis, duration_seconds, memory_bytes

#: Every rate() window; at least four scrape intervals at the default 30s (VR405).
RATE = "5m"


@dataclass(frozen=True)
class Scenario:
    """One promtool test case: input series, an evaluation time and what must fire."""

    series: dict[str, str]
    eval_time: str
    fires: list[dict[str, str]] = field(default_factory=list)  # exp_labels of each alert expected


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    duration: str
    severity: str
    summary: str
    description: str  # may use {{ $labels.x }} and {{ $value | humanizePercentage }}
    firing: Scenario
    silent: Scenario
    value: float | None = None  # the firing scenario's $value, when the description shows it
    more: tuple[Scenario, ...] = ()  # further scenarios (other branches of an `or`)

    def rule(self, runbook_base: str) -> dict[str, Any]:
        return {
            "alert": self.name,
            "expr": self.expr,
            "for": self.duration,
            "labels": {"severity": self.severity},
            "annotations": {
                "summary": self.summary,
                "description": self.description,
                "runbook_url": f"{runbook_base}/{self.name}",
            },
        }


def _selector(labels: dict[str, str]) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def _percent(value: float) -> str:
    """Prometheus's humanizePercentage for the round values our scenarios produce."""
    return f"{value * 100:.4g}%"


def expected_annotations(alert: Alert, labels: dict[str, str], runbook_base: str) -> dict[str, str]:
    text = alert.description
    for key, value in labels.items():
        text = text.replace("{{ $labels." + key + " }}", value)
    if alert.value is not None:
        text = text.replace("{{ $value | humanizePercentage }}", _percent(alert.value))
    return {"summary": alert.summary, "description": text, "runbook_url": f"{runbook_base}/{alert.name}"}


class _Builder:
    def __init__(self, profile: Profile):
        self.profile = profile
        self.monitoring = profile.monitoring
        self.kubernetes = profile.environment.kubernetes
        self.thresholds = profile.monitoring.thresholds
        self.backend = profile.services["backend"]

    # -- container resources -----------------------------------------------------------

    def container(self) -> list[Alert]:
        t, backend = self.thresholds, self.backend
        cores = cpu_millis(backend.resources.limits.cpu) / 1000
        limit = memory_bytes(backend.resources.limits.memory)
        cpu_fire = round((1 + t.cpu_ratio) / 2, 2)
        mem_fire = round((1 + t.memory_ratio) / 2, 2)
        if self.kubernetes:
            by = "namespace, pod, container"
            who = {"namespace": self.kubernetes.namespace, "pod": "backend-0", "container": "backend"}
            ns = f'namespace="{self.kubernetes.namespace}"'
            cpu_expr = (
                f'sum by ({by}) (rate(container_cpu_usage_seconds_total{{{ns}, container!="", container!="POD"}}[{RATE}]))\n'
                f"  / on ({by})\n"
                f'sum by ({by}) (kube_pod_container_resource_limits{{{ns}, resource="cpu", unit="core"}})\n'
                f"  > {t.cpu_ratio}"
            )
            mem_expr = (
                f'sum by ({by}) (container_memory_working_set_bytes{{{ns}, container!="", container!="POD"}})\n'
                f"  / on ({by})\n"
                f'sum by ({by}) (kube_pod_container_resource_limits{{{ns}, resource="memory", unit="byte"}})\n'
                f"  > {t.memory_ratio}"
            )
            restart_expr = f"increase(kube_pod_container_status_restarts_total{{{ns}}}[{t.restart_window}]) > 0"
            # Series as scraped: kube-state-metrics adds its own job, instance and uid;
            # cAdvisor adds id and image, plus pod-level (container="POD") and cgroup
            # (container="") series that the alerts must not count.
            ksm = {**who, "job": "kube-state-metrics", "instance": "10.0.3.7:8080", "uid": "6f1c0a52-9a8e-4b1e-9d2c-0b7e3f5a1c44"}
            kubelet = {**who, "job": "cadvisor", "instance": "10.0.1.4:10250", "id": "/kubepods/burstable/pod6f1c0a52/3c9d", "image": "backend"}
            noise = {
                _selector({**kubelet, "container": "POD", "id": "/kubepods/burstable/pod6f1c0a52"}): "pause",
                _selector({**kubelet, "container": "", "id": "/kubepods/burstable/pod6f1c0a52", "image": ""}): "cgroup",
            }
            cpu_limit = {f"kube_pod_container_resource_limits{_selector({**ksm, 'resource': 'cpu', 'unit': 'core'})}": f"{cores:g}x30"}
            mem_limit = {f"kube_pod_container_resource_limits{_selector({**ksm, 'resource': 'memory', 'unit': 'byte'})}": f"{limit}x30"}
            restarted = {f"kube_pod_container_status_restarts_total{_selector(ksm)}": "3x10 4x20"}
            steady = {f"kube_pod_container_status_restarts_total{_selector(ksm)}": "7x40"}
            restart_labels = ksm
            shown = "{{ $labels.namespace }}/{{ $labels.pod }}/{{ $labels.container }}"
        else:
            who = {"name": f"{self.profile.project.name}_backend.1.q2w3e4r5t6"}
            # Only this stack's containers: swarm names them <stack>_<service>.<slot>.<task>.
            ours = f'name=~"{self.profile.project.name}_.+"'
            cpu_expr = (
                f"sum by (name) (rate(container_cpu_usage_seconds_total{{{ours}}}[{RATE}]))\n"
                "  / on (name)\n"
                f"(sum by (name) (container_spec_cpu_quota{{{ours}}} > 0) / sum by (name) (container_spec_cpu_period{{{ours}}}))\n"
                f"  > {t.cpu_ratio}"
            )
            mem_expr = (
                f"sum by (name) (container_memory_working_set_bytes{{{ours}}})\n"
                "  / on (name)\n"
                f"sum by (name) (container_spec_memory_limit_bytes{{{ours}}} > 0)\n"
                f"  > {t.memory_ratio}"
            )
            restart_expr = f"changes(container_start_time_seconds{{{ours}}}[{t.restart_window}]) > 0"
            kubelet = {**who, "job": "cadvisor-swarm", "instance": "10.0.9.2:8080", "id": "/docker/3c9d", "image": "backend"}
            noise = {}
            sel = _selector(kubelet)
            cpu_limit = {f"container_spec_cpu_quota{sel}": f"{int(cores * 100000)}x30", f"container_spec_cpu_period{sel}": "100000x30"}
            mem_limit = {f"container_spec_memory_limit_bytes{sel}": f"{limit}x30"}
            restarted = {f"container_start_time_seconds{sel}": "1700000000x10 1700000660x20"}
            steady = {f"container_start_time_seconds{sel}": "1700000000x40"}
            restart_labels = kubelet
            shown = "{{ $labels.name }}"
        sel = _selector(kubelet)
        fired = {**who, "severity": "warning"}
        # Pause containers and cgroup totals burn CPU and memory that no limit covers.
        cpu_noise = {f"container_cpu_usage_seconds_total{labels}": f"0+{round(cores * 60, 3):g}x30" for labels in noise}
        mem_noise = {f"container_memory_working_set_bytes{labels}": f"{limit * 2}x30" for labels in noise}
        return [
            Alert(
                "ContainerHighCPU", cpu_expr, self.monitoring.alert_for, "warning",
                f"Container CPU above {round(t.cpu_ratio * 100)}% of its limit",
                f"Container {shown} has used {{{{ $value | humanizePercentage }}}} of its CPU limit for {self.monitoring.alert_for}.",
                Scenario({f"container_cpu_usage_seconds_total{sel}": f"0+{round(cores * cpu_fire * 60, 3):g}x30", **cpu_limit}, "15m", [fired]),
                # An idle container with a large cumulative counter: the seed's rule fired forever here.
                Scenario({f"container_cpu_usage_seconds_total{sel}": "987654321+0x30", **cpu_noise, **cpu_limit}, "15m"),
                value=cpu_fire,
            ),
            Alert(
                "ContainerHighMemory", mem_expr, self.monitoring.alert_for, "warning",
                f"Container working set above {round(t.memory_ratio * 100)}% of its memory limit",
                f"Container {shown} working set is {{{{ $value | humanizePercentage }}}} of its memory limit; it will be OOM-killed at 100%.",
                Scenario({f"container_memory_working_set_bytes{sel}": f"{int(limit * mem_fire)}x30", **mem_limit}, "15m", [fired]),
                # Page cache inflates usage_bytes; the working set is what the OOM killer counts.
                Scenario({f"container_memory_usage_bytes{sel}": f"{int(limit * 0.99)}x30",
                          f"container_memory_working_set_bytes{sel}": f"{int(limit * 0.2)}x30", **mem_noise, **mem_limit}, "15m"),
                value=mem_fire,
            ),
            Alert(
                "ContainerRestarting", restart_expr, "0m", "warning",
                "Container restarted",
                f"Container {shown} restarted within the last {t.restart_window}.",
                Scenario(restarted, "12m", [{**restart_labels, "severity": "warning"}]),
                # An old, constant restart count is history, not an incident.
                Scenario(steady, "30m"),
            ),
        ]

    # -- the backend's requests ----------------------------------------------------------

    def http(self) -> tuple[list[dict[str, Any]], list[Alert]]:
        http, t = self.monitoring.http, self.thresholds
        job = {"job": "backend"}
        records = [
            {"record": "job:http_requests:rate5m", "expr": f'sum by (job) (rate({http.requests}{{job="backend"}}[{RATE}]))'},
            {"record": "job:http_request_errors:rate5m",
             "expr": f'sum by (job) (rate({http.requests}{{job="backend", {http.status_label}=~"{http.error_status}"}}[{RATE}]))'},
            {"record": "job:http_request_duration_seconds:p99_5m",
             "expr": f'histogram_quantile(0.99, sum by (job, le) (rate({http.duration}_bucket{{job="backend"}}[{RATE}])))'},
        ]
        ok = f'{http.requests}{{job="backend", {http.status_label}="200"}}'
        failed = f'{http.requests}{{job="backend", {http.status_label}="503"}}'
        error_fire = round(min(0.99, t.error_ratio * 4), 2)
        bucket = f"{http.duration}_bucket"
        slow = t.latency_p99_seconds * 4
        alerts = [
            Alert(
                "BackendHighErrorRate",
                f'job:http_request_errors:rate5m{{job="backend"}}\n  / job:http_requests:rate5m{{job="backend"}}\n  > {t.error_ratio}',
                self.monitoring.alert_for, "critical",
                f"Backend 5xx responses above {t.error_ratio:.0%} of requests",
                "{{ $value | humanizePercentage }} of backend requests failed with a 5xx status over the last " + RATE + ".",
                Scenario({ok: f"0+{round((1 - error_fire) * 600)}x30", failed: f"0+{round(error_fire * 600)}x30"}, "15m", [{**job, "severity": "critical"}]),
                Scenario({ok: "0+600x30", failed: "0+1x30"}, "15m"),
                value=error_fire,
            ),
            Alert(
                "BackendHighLatency",
                f'job:http_request_duration_seconds:p99_5m{{job="backend"}} > {t.latency_p99_seconds:g}',
                "10m", "warning",
                f"Backend p99 latency above {t.latency_p99_seconds:g}s",
                f"The backend's 99th percentile request latency has been above {t.latency_p99_seconds:g}s for 10 minutes.",
                Scenario({f'{bucket}{{job="backend", le="{t.latency_p99_seconds:g}"}}': "0+0x30",
                          f'{bucket}{{job="backend", le="{slow:g}"}}': "0+60x30",
                          f'{bucket}{{job="backend", le="+Inf"}}': "0+60x30"}, "20m", [{**job, "severity": "warning"}]),
                Scenario({f'{bucket}{{job="backend", le="{t.latency_p99_seconds:g}"}}': "0+60x30",
                          f'{bucket}{{job="backend", le="{slow:g}"}}': "0+60x30",
                          f'{bucket}{{job="backend", le="+Inf"}}': "0+60x30"}, "20m"),
            ),
        ]
        return records, alerts

    # -- scrape targets and Redis ---------------------------------------------------------

    def targets(self, jobs: list[str]) -> list[Alert]:
        instance = {"job": "backend", "instance": "backend:8000"}
        return [
            Alert(
                "TargetDown", f'up{{job=~"{"|".join(jobs)}"}} == 0', self.monitoring.alert_for, "critical",
                "Scrape target down",
                "Prometheus cannot scrape {{ $labels.instance }} of job {{ $labels.job }}.",
                Scenario({f"up{_selector(instance)}": "1x5 0x25"}, "15m", [{**instance, "severity": "critical"}]),
                Scenario({f"up{_selector(instance)}": "1x30"}, "15m"),
            )
        ]

    def redis(self) -> list[Alert]:
        instance = {"job": "redis", "instance": "redis:9121"}
        sel = _selector(instance)
        maxmemory = 700 * 2**20
        return [
            Alert(
                "RedisMemoryNearMax",
                "redis_memory_used_bytes / (redis_memory_max_bytes > 0) > 0.9", self.monitoring.alert_for, "warning",
                "Redis memory above 90% of maxmemory",
                "Redis {{ $labels.instance }} uses {{ $value | humanizePercentage }} of maxmemory; evictions or OOM errors follow.",
                Scenario({f"redis_memory_used_bytes{sel}": f"{int(maxmemory * 0.95)}x30", f"redis_memory_max_bytes{sel}": f"{maxmemory}x30"},
                         "15m", [{**instance, "severity": "warning"}]),
                Scenario({f"redis_memory_used_bytes{sel}": f"{int(maxmemory * 0.5)}x30", f"redis_memory_max_bytes{sel}": f"{maxmemory}x30"}, "15m"),
                value=0.95,
            ),
            Alert(
                "RedisRejectedConnections",
                f"increase(redis_rejected_connections_total[{RATE}]) > 0", "0m", "warning",
                "Redis rejected connections",
                "Redis {{ $labels.instance }} refused client connections in the last " + RATE + " (maxclients reached).",
                Scenario({f"redis_rejected_connections_total{sel}": "0x10 3x20"}, "12m", [{**instance, "severity": "warning"}]),
                Scenario({f"redis_rejected_connections_total{sel}": "12x40"}, "30m"),
            ),
        ]

    # -- Kubernetes operations ----------------------------------------------------------

    def kubernetes_operations(self) -> list[Alert]:
        assert self.kubernetes is not None
        ns = self.kubernetes.namespace
        backups = self.profile.backups
        assert backups is not None
        pvc = {"namespace": ns, "persistentvolumeclaim": "data-neo4j-0"}
        failed_job = {"namespace": ns, "job_name": "neo4j-backup-29000000", "condition": "true"}
        late = {"namespace": ns, "cronjob": "neo4j-backup"}
        redis_cronjob = {"namespace": ns, "cronjob": "redis-backup"}
        hpa = {"namespace": ns, "horizontalpodautoscaler": "backend"}
        rollout = {"namespace": ns, "deployment": "backend", "condition": "Progressing", "status": "false"}
        neo4j_late = int(duration_seconds(backups.neo4j.alert_after))
        redis_late = int(duration_seconds(backups.redis.alert_after))
        return [
            Alert(
                "PersistentVolumeFillingUp",
                f'kubelet_volume_stats_available_bytes{{namespace="{ns}"}}\n  / kubelet_volume_stats_capacity_bytes{{namespace="{ns}"}}\n  < 0.1',
                self.monitoring.alert_for, "critical",
                "Persistent volume almost full",
                "Volume {{ $labels.persistentvolumeclaim }} in {{ $labels.namespace }} has {{ $value | humanizePercentage }} of its space left.",
                Scenario({f"kubelet_volume_stats_available_bytes{_selector(pvc)}": f"{5 * 2**30}x30",
                          f"kubelet_volume_stats_capacity_bytes{_selector(pvc)}": f"{100 * 2**30}x30"}, "15m", [{**pvc, "severity": "critical"}]),
                Scenario({f"kubelet_volume_stats_available_bytes{_selector(pvc)}": f"{60 * 2**30}x30",
                          f"kubelet_volume_stats_capacity_bytes{_selector(pvc)}": f"{100 * 2**30}x30"}, "15m"),
                value=0.05,
            ),
            Alert(
                "BackupJobFailed",
                f'kube_job_failed{{namespace="{ns}", job_name=~"(neo4j|redis)-backup-.*", condition="true"}} == 1', "0m", "critical",
                "Backup job failed",
                "Backup job {{ $labels.job_name }} in {{ $labels.namespace }} failed; the last good backup is getting older.",
                Scenario({f"kube_job_failed{_selector(failed_job)}": "0x5 1x10"}, "10m", [{**failed_job, "severity": "critical"}]),
                # A pod that failed and was retried successfully leaves the Job not failed.
                Scenario({f"kube_job_failed{_selector(failed_job)}": "0x15"}, "10m"),
            ),
            Alert(
                "BackupLate",
                "\nor\n".join(
                    f'(time() - kube_cronjob_status_last_successful_time{{namespace="{ns}", cronjob="{job}"}}) > {late_after}\n'
                    f'or ((time() - kube_cronjob_created{{namespace="{ns}", cronjob="{job}"}}) > {late_after}\n'
                    f'  unless on (namespace, cronjob) kube_cronjob_status_last_successful_time{{namespace="{ns}", cronjob="{job}"}})'
                    for job, late_after in (("neo4j-backup", neo4j_late), ("redis-backup", redis_late))
                ),
                "0m", "warning",
                "Backup has not succeeded in time",
                "CronJob {{ $labels.cronjob }} in {{ $labels.namespace }} has not completed a backup in time.",
                # The last success lies before the test's clock starts; evaluating for a day
                # of test time would make promtool slow.
                Scenario({f"kube_cronjob_status_last_successful_time{_selector(late)}": f"{-(neo4j_late + 600)}x20"}, "10m",
                         [{**late, "severity": "warning"}]),
                Scenario({f"kube_cronjob_status_last_successful_time{_selector(late)}": "0+60x40"}, "30m"),
                more=(
                    # A CronJob that never succeeded has no last-success series at all.
                    Scenario({f"kube_cronjob_created{_selector(redis_cronjob)}": f"{-(redis_late + 600)}x20"}, "10m",
                             [{**redis_cronjob, "severity": "warning"}]),
                    Scenario({f"kube_cronjob_created{_selector(redis_cronjob)}": f"{-(redis_late + 600)}x20",
                              f"kube_cronjob_status_last_successful_time{_selector(redis_cronjob)}": "0+60x20"}, "10m"),
                ),
            ),
            Alert(
                "HorizontalPodAutoscalerMaxedOut",
                f'kube_horizontalpodautoscaler_status_current_replicas{{namespace="{ns}"}}\n'
                f'  >= kube_horizontalpodautoscaler_spec_max_replicas{{namespace="{ns}"}}',
                "15m", "warning",
                "Autoscaler pinned at its maximum",
                "HPA {{ $labels.horizontalpodautoscaler }} in {{ $labels.namespace }} has run at max replicas for 15 minutes; raise the bound or find the load.",
                Scenario({f"kube_horizontalpodautoscaler_status_current_replicas{_selector(hpa)}": "6x30",
                          f"kube_horizontalpodautoscaler_spec_max_replicas{_selector(hpa)}": "6x30"}, "20m", [{**hpa, "severity": "warning"}]),
                Scenario({f"kube_horizontalpodautoscaler_status_current_replicas{_selector(hpa)}": "3x30",
                          f"kube_horizontalpodautoscaler_spec_max_replicas{_selector(hpa)}": "6x30"}, "20m"),
            ),
            Alert(
                "DeploymentRolloutStuck",
                f'kube_deployment_status_condition{{namespace="{ns}", condition="Progressing", status="false"}} == 1',
                "15m", "warning",
                "Deployment rollout stuck",
                "Deployment {{ $labels.deployment }} in {{ $labels.namespace }} stopped progressing; roll back with kubectl rollout undo.",
                Scenario({f"kube_deployment_status_condition{_selector(rollout)}": "0x5 1x25"}, "25m", [{**rollout, "severity": "warning"}]),
                Scenario({f"kube_deployment_status_condition{_selector(rollout)}": "0x30"}, "25m"),
            ),
        ]


def scraped_jobs(profile: Profile) -> list[str]:
    platform = "kubernetes" if profile.environment.kubernetes else "compose"
    return [job for job, exporter in profile.monitoring.exporters.items() if platform in exporter.platforms]


def rules_and_tests(profile: Profile) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(rule groups, promtool test document) for the profile."""
    builder = _Builder(profile)
    records, http_alerts = builder.http()
    groups = [
        ("vitalyst-containers", [], builder.container()),
        ("vitalyst-backend", records, http_alerts),
        ("vitalyst-targets", [], builder.targets(scraped_jobs(profile)) + builder.redis()),
    ]
    if profile.environment.kubernetes:
        groups.append(("vitalyst-kubernetes", [], builder.kubernetes_operations()))
    runbook = profile.monitoring.runbook_base_url
    rule_groups = [
        {"name": name, "rules": records + [alert.rule(runbook) for alert in alerts]}
        for name, records, alerts in groups
    ]
    tests = []
    for _, _, alerts in groups:
        for alert in alerts:
            for scenario in (alert.firing, alert.silent, *alert.more):
                tests.append(
                    {
                        "interval": "1m",
                        "input_series": [{"series": s, "values": v} for s, v in scenario.series.items()],
                        "alert_rule_test": [
                            {
                                "eval_time": scenario.eval_time,
                                "alertname": alert.name,
                                "exp_alerts": [
                                    {"exp_labels": labels, "exp_annotations": expected_annotations(alert, labels, runbook)}
                                    for labels in scenario.fires
                                ],
                            }
                        ],
                    }
                )
    document = {"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": tests}
    return rule_groups, document
