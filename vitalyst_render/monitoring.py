"""The alerting and dashboard model, built from the stack plan.

Each alert is written once, with the scenarios that prove it: one where it must fire
(with the exact labels and annotations Prometheus will produce) and one where it must
stay silent. ``rules.yml``, the ``PrometheusRule`` object and ``rules.test.yml`` are all
dumped from these structures, so a rule cannot drift from its test. Dashboard panels are
data here too, so the PromQL that checks lint is the PromQL the dashboard runs.

Alerts every stack has (container resources, restarts, scrape targets, HTTP errors and
latency of every service that declares HTTP metrics, Kubernetes operations and the
backup jobs) are built here; what only a kind has (Redis memory, Neo4j readiness)
comes from its role's ``alerts`` and ``panels``.

Every platform a profile runs on gets its own plan, because each names containers its
own way: Kubernetes through cAdvisor (via the kubelet) and kube-state-metrics v2 with
``namespace``/``pod``/``container`` labels; a Compose v2 project and a swarm stack
through cAdvisor's copies of Docker's labels (``com.docker.compose.project`` and
``.service``; ``com.docker.stack.namespace`` and ``com.docker.swarm.service.name``).
The primary platform's files are ``prometheus/`` and ``grafana/dashboards/overview.json``;
a second platform's are ``prometheus/<platform>/`` and ``overview-<platform>.json``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from . import promql
from .profile.models import HttpMetrics, Profile
from .promql import alternation, matcher, string as literal
from .profile.types import cpu_millis, memory_bytes

if TYPE_CHECKING:
    from .plan import BackupJob, ScrapeTarget, ServicePlan
    from .roles.base import Role

#: Where a stack runs: a laptop's Compose v2 project, a swarm stack, or a cluster.
Platform = Literal["compose", "swarm", "kubernetes"]

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

    @property
    def anchor(self) -> str:
        """The alert's section in the profile's RUNBOOK.md."""
        return f"alert-{self.name.lower()}"

    def runbook_url(self, runbook: str) -> str:
        return f"{runbook}#{self.anchor}"

    def rule(self, runbook_base: str) -> dict[str, Any]:
        return {
            "alert": self.name,
            "expr": self.expr,
            "for": self.duration,
            "labels": {"severity": self.severity},
            "annotations": {
                "summary": self.summary,
                "description": self.description,
                "runbook_url": self.runbook_url(runbook_base),
            },
        }


@dataclass(frozen=True)
class Panel:
    """One dashboard graph: a PromQL expression and how to show it."""

    title: str
    unit: str
    expr: str
    legend: str


@dataclass(frozen=True)
class RuleGroup:
    name: str
    records: tuple[dict[str, str], ...]
    alerts: tuple[Alert, ...]


@dataclass(frozen=True)
class Naming:
    """How one platform names the stack's containers and scrape targets, as cAdvisor
    and service discovery label them. ``project`` is the Compose project, the swarm
    stack or the Kubernetes namespace."""

    platform: Platform
    project: str
    cadvisor_job: str  # the scrape job of this platform's cAdvisor
    cadvisor_instance: str

    @property
    def service_label(self) -> str:
        return {
            "compose": "container_label_com_docker_compose_service",
            "swarm": "container_label_com_docker_swarm_service_name",
            "kubernetes": "container",
        }[self.platform]

    @property
    def scope_label(self) -> str:
        """The label whose value, ``project``, marks this stack's containers."""
        return {
            "compose": "container_label_com_docker_compose_project",
            "swarm": "container_label_com_docker_stack_namespace",
            "kubernetes": "namespace",
        }[self.platform]

    @property
    def scope(self) -> str:
        """The matcher that selects this stack's containers and nothing else on the host."""
        return matcher(self.scope_label, self.project)

    def service(self, service: str) -> str:
        """The value of ``service_label`` for a service: swarm prefixes the stack."""
        return f"{self.project}_{service}" if self.platform == "swarm" else service

    def host(self, compose_service: str) -> str:
        """The DNS name that resolves to every container of a compose service."""
        return f"tasks.{compose_service}" if self.platform == "swarm" else compose_service

    def container(self, service: str, slot: int = 1, task: str = "q2w3e4r5t6") -> dict[str, str]:
        """The labels an alert keeps for one container: its service and its name."""
        if self.platform == "swarm":
            name = f"{self.project}_{service}.{slot}.{task}"
        else:
            name = f"{self.project}-{service}-{slot}"
        return {self.service_label: self.service(service), "name": name}

    def series_labels(self, service: str, project: str | None = None) -> dict[str, str]:
        """Every Docker label cAdvisor copies onto a container's series, as Compose v2
        and swarm set them."""
        naming = self if project is None else Naming(self.platform, project, self.cadvisor_job, self.cadvisor_instance)
        labels = naming.container(service)
        if self.platform == "swarm":
            return {**labels, "container_label_com_docker_stack_namespace": naming.project,
                    "container_label_com_docker_swarm_task_name": labels["name"],
                    "container_label_com_docker_swarm_node_id": "k3j4h5g6f7d8"}
        return {**labels, "container_label_com_docker_compose_project": naming.project,
                "container_label_com_docker_compose_container_number": "1",
                "container_label_com_docker_compose_oneoff": "False"}

    def stranger(self, service: str) -> dict[str, str]:
        """The same service of another project on the same Docker host."""
        return self.series_labels(service, project=f"{self.project}-other")

    def instance(self, port: int) -> str:
        """An ``instance`` label as service discovery finds a task: its address."""
        return {"compose": "172.18.0.5", "swarm": "10.0.5.7", "kubernetes": "10.244.1.17"}[self.platform] + f":{port}"


@dataclass(frozen=True)
class MonitoringPlan:
    naming: Naming
    folder: str  # prometheus.yml, rules.yml and rules.test.yml, relative to out/<profile>/
    dashboard: str  # the overview dashboard
    groups: tuple[RuleGroup, ...]
    panels: tuple[Panel, ...]
    runbook_base: str  # the URL of the profile's RUNBOOK.md; each alert links to its section
    catalogues: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # scrape job → metrics it exports

    @property
    def platform(self) -> Platform:
        return self.naming.platform

    @property
    def primary(self) -> bool:
        return self.folder == "prometheus"

    @property
    def rules_path(self) -> str:
        return f"{self.folder}/rules.yml"

    @property
    def tests_path(self) -> str:
        return f"{self.folder}/rules.test.yml"

    @property
    def config_path(self) -> str:
        return f"{self.folder}/prometheus.yml"

    @property
    def metrics_provided(self) -> dict[str, set[str]]:
        """Metric name → the scrape jobs of this platform that export it."""
        provided: dict[str, set[str]] = {}
        for job, metrics in self.catalogues.items():
            for metric in metrics:
                provided.setdefault(metric, set()).add(job)
        return provided

    @property
    def rule_groups(self) -> list[dict[str, Any]]:
        """The rule groups as rules.yml and the PrometheusRule hold them."""
        return [
            {"name": group.name, "rules": [*group.records, *(alert.rule(self.runbook_base) for alert in group.alerts)]}
            for group in self.groups
        ]

    @property
    def alerts(self) -> tuple[Alert, ...]:
        return tuple(alert for group in self.groups for alert in group.alerts)

    @property
    def rule_tests(self) -> dict[str, Any]:
        """The promtool unit-test document: every scenario of every alert."""
        tests = []
        for alert in self.alerts:
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
                                    {"exp_labels": labels, "exp_annotations": expected_annotations(alert, labels, self.runbook_base)}
                                    for labels in scenario.fires
                                ],
                            }
                        ],
                    }
                )
        return {"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": tests}


def selector(labels: dict[str, str]) -> str:
    """``{a="x", b="y"}``, every value a PromQL string literal (:mod:`vitalyst_render.promql`)."""
    return promql.selector(labels)


def job_matcher(jobs: Sequence[str]) -> str:
    """``job="a"`` for one job, ``job=~"a|b"`` for several."""
    return matcher("job", jobs[0]) if len(jobs) == 1 else matcher("job", alternation(jobs), "=~")


def _percent(value: float) -> str:
    """Prometheus's humanizePercentage for the round values our scenarios produce."""
    return f"{value * 100:.4g}%"


def expected_annotations(alert: Alert, labels: dict[str, str], runbook_base: str) -> dict[str, str]:
    text = alert.description
    for key, value in labels.items():
        text = text.replace("{{ $labels." + key + " }}", value)
    if alert.value is not None:
        text = text.replace("{{ $value | humanizePercentage }}", _percent(alert.value))
    return {"summary": alert.summary, "description": text, "runbook_url": alert.runbook_url(runbook_base)}


@dataclass(frozen=True)
class AlertContext:
    """What a role sees when it writes alerts and panels for its services."""

    profile: Profile
    profile_name: str
    naming: Naming

    @property
    def platform(self) -> Platform:
        return self.naming.platform

    @property
    def alert_for(self) -> str:
        return str(self.profile.monitoring.alert_for)

    @property
    def namespace(self) -> str | None:
        """The Kubernetes namespace, when these alerts are the cluster's."""
        return self.naming.project if self.platform == "kubernetes" else None


class _Builder:
    def __init__(self, profile: Profile, services: Mapping[str, ServicePlan], naming: Naming):
        self.profile = profile
        self.monitoring = profile.monitoring
        self.naming = naming
        self.kubernetes = profile.environment.kubernetes if naming.platform == "kubernetes" else None
        self.thresholds = profile.monitoring.thresholds
        # Scenarios need one real container to stand for all: the first built one.
        self.example = next((s for s in services.values() if s.built), next(iter(services.values())))
        self.services = services

    # -- container resources -----------------------------------------------------------

    def container(self) -> list[Alert]:
        t, example = self.thresholds, self.example
        cores = cpu_millis(example.resources.limits.cpu) / 1000
        limit = memory_bytes(example.resources.limits.memory)
        cpu_fire = round((1 + t.cpu_ratio) / 2, 2)
        mem_fire = round((1 + t.memory_ratio) / 2, 2)
        naming = self.naming
        if self.kubernetes:
            by = "namespace, pod, container"
            who = {"namespace": self.kubernetes.namespace, "pod": f"{example.name}-0", "container": example.name}
            ns = matcher("namespace", self.kubernetes.namespace)
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
            kubelet = {**who, "job": "cadvisor", "instance": "10.0.1.4:10250", "id": "/kubepods/burstable/pod6f1c0a52/3c9d", "image": example.name}
            noise = {
                selector({**kubelet, "container": "POD", "id": "/kubepods/burstable/pod6f1c0a52"}): "pause",
                selector({**kubelet, "container": "", "id": "/kubepods/burstable/pod6f1c0a52", "image": ""}): "cgroup",
            }
            cpu_limit = {f"kube_pod_container_resource_limits{selector({**ksm, 'resource': 'cpu', 'unit': 'core'})}": f"{cores:g}x30"}
            mem_limit = {f"kube_pod_container_resource_limits{selector({**ksm, 'resource': 'memory', 'unit': 'byte'})}": f"{limit}x30"}
            restarted = {f"kube_pod_container_status_restarts_total{selector(ksm)}": "3x10 4x20"}
            steady = {f"kube_pod_container_status_restarts_total{selector(ksm)}": "7x40"}
            restart_labels = ksm
            restart_fired = {**restart_labels, "severity": "warning"}
            shown = "{{ $labels.namespace }}/{{ $labels.pod }}/{{ $labels.container }}"
            restart_text = f"Container {shown} restarted within the last {t.restart_window}."
            more: tuple[Scenario, ...] = ()
        else:
            # cAdvisor copies every Docker label of a container onto its series as
            # container_label_<name>: the stack's containers are those its label marks.
            who = naming.container(example.name)
            by = f"{naming.service_label}, name"
            ours = naming.scope
            cpu_expr = (
                f"sum by ({by}) (rate(container_cpu_usage_seconds_total{{{ours}}}[{RATE}]))\n"
                f"  / on ({by})\n"
                f"(sum by ({by}) (container_spec_cpu_quota{{{ours}}} > 0) / sum by ({by}) (container_spec_cpu_period{{{ours}}}))\n"
                f"  > {t.cpu_ratio}"
            )
            mem_expr = (
                f"sum by ({by}) (container_memory_working_set_bytes{{{ours}}})\n"
                f"  / on ({by})\n"
                f"sum by ({by}) (container_spec_memory_limit_bytes{{{ours}}} > 0)\n"
                f"  > {t.memory_ratio}"
            )
            kubelet = {**naming.series_labels(example.name), "job": naming.cadvisor_job, "instance": naming.cadvisor_instance,
                       "id": "/system.slice/docker-3c9d0f1e.scope", "image": example.image}
            noise = {}
            sel = selector(kubelet)
            cpu_limit = {f"container_spec_cpu_quota{sel}": f"{int(cores * 100000)}x30", f"container_spec_cpu_period{sel}": "100000x30"}
            mem_limit = {f"container_spec_memory_limit_bytes{sel}": f"{limit}x30"}
            shown = "{{ $labels.name }}"
            service_shown = "{{ $labels." + naming.service_label + " }}"
            if naming.platform == "compose":
                # Compose restarts a container in place: same name and id, a new start time.
                restart_expr = f"changes(container_start_time_seconds{{{ours}}}[{t.restart_window}]) > 0"
                restarted = {f"container_start_time_seconds{sel}": "1700000000x10 1700000660x20"}
                steady = {f"container_start_time_seconds{sel}": "1700000000x40"}
                restart_fired = {**kubelet, "severity": "warning"}
                restart_text = f"Container {shown} restarted within the last {t.restart_window}."
                more = ()
            else:
                # Swarm never restarts a container: it replaces the task, and the new
                # container is a new series. The newest start time of a service moves.
                svc = naming.service_label
                restart_expr = (
                    f"changes(max by ({svc}) (container_start_time_seconds{{{ours}}})[{t.restart_window}:1m]) > 0"
                )
                replaced = {**kubelet, "name": naming.container(example.name, task="y7u8i9o0p1")["name"], "id": "/system.slice/docker-7d1e2a3b.scope"}
                restarted = {f"container_start_time_seconds{sel}": "1700000000x10",
                             f"container_start_time_seconds{selector(replaced)}": "_x10 1700000660x20"}
                steady = {f"container_start_time_seconds{sel}": "1700000000x40"}
                restart_fired = {svc: kubelet[svc], "severity": "warning"}
                restart_text = (f"A task of {service_shown} started within the last {t.restart_window}: swarm replaced a failed "
                                "task, or an update or scale-out started one.")
                # A second replica that runs steadily next to the first is no restart.
                twin = {**kubelet, "name": naming.container(example.name, slot=2, task="z1x2c3v4b5")["name"], "id": "/system.slice/docker-5e6f7a8b.scope"}
                more = (Scenario({f"container_start_time_seconds{sel}": "1700000000x40",
                                  f"container_start_time_seconds{selector(twin)}": "1700000030x40"}, "30m"),)
        sel = selector(kubelet)
        fired = {**who, "severity": "warning"}
        # Pause containers and cgroup totals burn CPU and memory that no limit covers.
        cpu_noise = {f"container_cpu_usage_seconds_total{labels}": f"0+{round(cores * 60, 3):g}x30" for labels in noise}
        mem_noise = {f"container_memory_working_set_bytes{labels}": f"{limit * 2}x30" for labels in noise}
        # Containers of another project on the same host: the alerts must not see them.
        cpu_strangers: dict[str, str] = {}
        mem_strangers: dict[str, str] = {}
        if not self.kubernetes:
            stranger = selector({**naming.stranger(example.name), "job": naming.cadvisor_job, "instance": naming.cadvisor_instance,
                                 "id": "/system.slice/docker-9a8b7c6d.scope", "image": example.image})
            cpu_strangers = {f"container_cpu_usage_seconds_total{stranger}": f"0+{round(cores * 60, 3):g}x30",
                             f"container_spec_cpu_quota{stranger}": f"{int(cores * 100000)}x30",
                             f"container_spec_cpu_period{stranger}": "100000x30"}
            mem_strangers = {f"container_memory_working_set_bytes{stranger}": f"{limit}x30",
                             f"container_spec_memory_limit_bytes{stranger}": f"{limit}x30"}
        return [
            Alert(
                "ContainerHighCPU", cpu_expr, self.monitoring.alert_for, "warning",
                f"Container CPU above {round(t.cpu_ratio * 100)}% of its limit",
                f"Container {shown} has used {{{{ $value | humanizePercentage }}}} of its CPU limit for {self.monitoring.alert_for}.",
                Scenario({f"container_cpu_usage_seconds_total{sel}": f"0+{round(cores * cpu_fire * 60, 3):g}x30", **cpu_limit, **cpu_strangers},
                         "15m", [fired]),
                # An idle container with a large cumulative counter: the seed's rule fired forever here.
                Scenario({f"container_cpu_usage_seconds_total{sel}": "987654321+0x30", **cpu_noise, **cpu_limit}, "15m"),
                value=cpu_fire,
            ),
            Alert(
                "ContainerHighMemory", mem_expr, self.monitoring.alert_for, "warning",
                f"Container working set above {round(t.memory_ratio * 100)}% of its memory limit",
                f"Container {shown} working set is {{{{ $value | humanizePercentage }}}} of its memory limit; it will be OOM-killed at 100%.",
                Scenario({f"container_memory_working_set_bytes{sel}": f"{int(limit * mem_fire)}x30", **mem_limit, **mem_strangers},
                         "15m", [fired]),
                # Page cache inflates usage_bytes; the working set is what the OOM killer counts.
                Scenario({f"container_memory_usage_bytes{sel}": f"{int(limit * 0.99)}x30",
                          f"container_memory_working_set_bytes{sel}": f"{int(limit * 0.2)}x30", **mem_noise, **mem_limit}, "15m"),
                value=mem_fire,
            ),
            Alert(
                "ContainerRestarting", restart_expr, "0m", "warning",
                "Container restarted",
                restart_text,
                Scenario(restarted, "12m", [restart_fired]),
                # An old, constant restart count is history, not an incident.
                Scenario(steady, "30m"),
                more=more,
            ),
        ]

    # -- HTTP requests of every service that declares its HTTP metrics --------------------

    def http(self, targets: Sequence[ScrapeTarget]) -> tuple[list[dict[str, str]], list[Alert], list[Panel]]:
        served = [t for t in targets if t.http is not None]
        if not served:
            return [], [], []
        # One recording rule per metric naming scheme, over every job that uses it.
        schemes: dict[HttpMetrics, list[str]] = {}
        for target in served:
            assert target.http is not None
            schemes.setdefault(target.http, []).append(target.job)
        records: list[dict[str, str]] = []
        for http, jobs in schemes.items():
            jobs_sel = job_matcher(jobs)
            records += [
                {"record": "job:http_requests:rate5m", "expr": f"sum by (job) (rate({http.requests}{{{jobs_sel}}}[{RATE}]))"},
                {"record": "job:http_request_errors:rate5m",
                 "expr": f'sum by (job) (rate({http.requests}{{{jobs_sel}, {matcher(http.status_label, http.error_status, "=~")}}}[{RATE}]))'},
                {"record": "job:http_request_duration_seconds:p99_5m",
                 "expr": f"histogram_quantile(0.99, sum by (job, le) (rate({http.duration}_bucket{{{jobs_sel}}}[{RATE}])))"},
            ]
        t = self.thresholds
        all_jobs = job_matcher([target.job for target in served])
        first = served[0]
        assert first.http is not None
        http = first.http
        job = {"job": first.job}
        ok = f'{http.requests}{selector({"job": first.job, http.status_label: "200"})}'
        failed = f'{http.requests}{selector({"job": first.job, http.status_label: "503"})}'
        error_fire = round(min(0.99, t.error_ratio * 4), 2)
        bucket = f"{http.duration}_bucket"
        slow = t.latency_p99_seconds * 4
        alerts = [
            Alert(
                "HttpHighErrorRate",
                f"job:http_request_errors:rate5m{{{all_jobs}}}\n  / job:http_requests:rate5m{{{all_jobs}}}\n  > {t.error_ratio}",
                self.monitoring.alert_for, "critical",
                f"HTTP 5xx responses above {t.error_ratio:.0%} of requests",
                "{{ $value | humanizePercentage }} of {{ $labels.job }}'s requests failed with a 5xx status over the last " + RATE + ".",
                Scenario({ok: f"0+{round((1 - error_fire) * 600)}x30", failed: f"0+{round(error_fire * 600)}x30"}, "15m", [{**job, "severity": "critical"}]),
                Scenario({ok: "0+600x30", failed: "0+1x30"}, "15m"),
                value=error_fire,
            ),
            Alert(
                "HttpHighLatency",
                f"job:http_request_duration_seconds:p99_5m{{{all_jobs}}} > {t.latency_p99_seconds:g}",
                "10m", "warning",
                f"p99 request latency above {t.latency_p99_seconds:g}s",
                f"The 99th percentile latency of {{{{ $labels.job }}}}'s requests has been above {t.latency_p99_seconds:g}s for 10 minutes.",
                Scenario({f'{bucket}{selector({"job": first.job, "le": f"{t.latency_p99_seconds:g}"})}': "0+0x30",
                          f'{bucket}{selector({"job": first.job, "le": f"{slow:g}"})}': "0+60x30",
                          f'{bucket}{selector({"job": first.job, "le": "+Inf"})}': "0+60x30"}, "20m", [{**job, "severity": "warning"}]),
                Scenario({f'{bucket}{selector({"job": first.job, "le": f"{t.latency_p99_seconds:g}"})}': "0+60x30",
                          f'{bucket}{selector({"job": first.job, "le": f"{slow:g}"})}': "0+60x30",
                          f'{bucket}{selector({"job": first.job, "le": "+Inf"})}': "0+60x30"}, "20m"),
            ),
        ]
        panels = [
            Panel("HTTP requests / s", "reqps", f"job:http_requests:rate5m{{{all_jobs}}}", "{{job}}"),
            Panel("HTTP 5xx ratio", "percentunit",
                  f"job:http_request_errors:rate5m{{{all_jobs}}} / job:http_requests:rate5m{{{all_jobs}}}", "{{job}}"),
            Panel("HTTP p99 latency", "s", f"job:http_request_duration_seconds:p99_5m{{{all_jobs}}}", "{{job}}"),
        ]
        return records, alerts, panels

    # -- scrape targets -------------------------------------------------------------------

    def targets(self, jobs: Sequence[str], targets: Sequence[ScrapeTarget]) -> list[Alert]:
        if not jobs:
            return []
        example = targets[0] if targets else None
        instance = ({"job": example.job, "instance": self.naming.instance(example.port)} if example
                    else {"job": jobs[0], "instance": "10.0.0.1:9100"})
        first, rest = jobs[0], jobs[1:]
        others = {f'up{selector({"job": job, "instance": self.naming.instance(9000 + n)})}': "1x30" for n, job in enumerate(rest)}
        return [
            Alert(
                "TargetDown", f'up{{{matcher("job", alternation(jobs), "=~")}}} == 0', self.monitoring.alert_for, "critical",
                "Scrape target down",
                "Prometheus cannot scrape {{ $labels.instance }} of job {{ $labels.job }}.",
                Scenario({f"up{selector(instance)}": "1x5 0x25"}, "15m", [{**instance, "severity": "critical"}]),
                Scenario({f"up{selector(instance)}": "1x30"}, "15m"),
            ),
            Alert(
                # TargetDown needs an `up` series that says 0; when service discovery finds
                # no target at all (every task gone, a renamed service, a dead DNS name),
                # there is no series to be 0.
                "TargetsMissing", "\nor\n".join(f'absent(up{selector({"job": job})})' for job in jobs), self.monitoring.alert_for, "critical",
                "Scrape job has no targets",
                "Prometheus finds no target of job {{ $labels.job }}: its service discovery returns nothing, so none of "
                "its alerts can fire.",
                Scenario(others, "15m", [{"job": first, "severity": "critical"}]),
                # A target that is found but down is TargetDown's, not this alert's.
                Scenario({**others, f"up{selector(instance if example else {'job': first, 'instance': '10.0.0.1:9100'})}": "0x30"}, "15m"),
            ),
        ]

    # -- Kubernetes operations ----------------------------------------------------------

    def kubernetes_operations(self, backups: Sequence[BackupJob]) -> list[Alert]:
        assert self.kubernetes is not None
        ns = self.kubernetes.namespace
        alerts = []
        stateful = next((s for s in self.services.values() if s.stateful), None)
        if stateful is not None:
            pvc = {"namespace": ns, "persistentvolumeclaim": f"data-{stateful.name}-0"}
            alerts.append(Alert(
                "PersistentVolumeFillingUp",
                f'kubelet_volume_stats_available_bytes{{namespace={literal(ns)}}}\n  / kubelet_volume_stats_capacity_bytes{{namespace={literal(ns)}}}\n  < 0.1',
                self.monitoring.alert_for, "critical",
                "Persistent volume almost full",
                "Volume {{ $labels.persistentvolumeclaim }} in {{ $labels.namespace }} has {{ $value | humanizePercentage }} of its space left.",
                Scenario({f"kubelet_volume_stats_available_bytes{selector(pvc)}": f"{5 * 2**30}x30",
                          f"kubelet_volume_stats_capacity_bytes{selector(pvc)}": f"{100 * 2**30}x30"}, "15m", [{**pvc, "severity": "critical"}]),
                Scenario({f"kubelet_volume_stats_available_bytes{selector(pvc)}": f"{60 * 2**30}x30",
                          f"kubelet_volume_stats_capacity_bytes{selector(pvc)}": f"{100 * 2**30}x30"}, "15m"),
                value=0.05,
            ))
        if backups:
            alerts += self._backups(ns, backups)
        hpa_service = next((s for s in self.services.values() if s.autoscaling is not None), None)
        if hpa_service is not None:
            hpa = {"namespace": ns, "horizontalpodautoscaler": hpa_service.name}
            alerts.append(Alert(
                "HorizontalPodAutoscalerMaxedOut",
                f'kube_horizontalpodautoscaler_status_current_replicas{{namespace={literal(ns)}}}\n'
                f'  >= kube_horizontalpodautoscaler_spec_max_replicas{{namespace={literal(ns)}}}',
                "15m", "warning",
                "Autoscaler pinned at its maximum",
                "HPA {{ $labels.horizontalpodautoscaler }} in {{ $labels.namespace }} has run at max replicas for 15 minutes; raise the bound or find the load.",
                Scenario({f"kube_horizontalpodautoscaler_status_current_replicas{selector(hpa)}": "6x30",
                          f"kube_horizontalpodautoscaler_spec_max_replicas{selector(hpa)}": "6x30"}, "20m", [{**hpa, "severity": "warning"}]),
                Scenario({f"kube_horizontalpodautoscaler_status_current_replicas{selector(hpa)}": "3x30",
                          f"kube_horizontalpodautoscaler_spec_max_replicas{selector(hpa)}": "6x30"}, "20m"),
            ))
        deployment = next((s for s in self.services.values() if not s.stateful), None)
        if deployment is not None:
            rollout = {"namespace": ns, "deployment": deployment.name, "condition": "Progressing", "status": "false"}
            alerts.append(Alert(
                "DeploymentRolloutStuck",
                f'kube_deployment_status_condition{{namespace={literal(ns)}, condition="Progressing", status="false"}} == 1',
                "15m", "warning",
                "Deployment rollout stuck",
                "Deployment {{ $labels.deployment }} in {{ $labels.namespace }} stopped progressing; roll back with kubectl rollout undo.",
                Scenario({f"kube_deployment_status_condition{selector(rollout)}": "0x5 1x25"}, "25m", [{**rollout, "severity": "warning"}]),
                Scenario({f"kube_deployment_status_condition{selector(rollout)}": "0x30"}, "25m"),
            ))
        return alerts

    def _backups(self, ns: str, backups: Sequence[BackupJob]) -> list[Alert]:
        first, last = backups[0], backups[-1]
        late = {"namespace": ns, "cronjob": first.name}
        never = {"namespace": ns, "cronjob": last.name}
        names = alternation(job.name for job in backups)
        # kube_job_failed stays 1 for as long as the failed Job object is kept
        # (failedJobsHistoryLimit), through any later success: compare the start of the
        # newest failed run of each CronJob with its last success instead.
        failed_start = (
            f'max by (namespace, cronjob) (label_replace(\n'
            f'  (kube_job_status_start_time{{namespace={literal(ns)}}}\n'
            f'    and on (namespace, job_name) (kube_job_failed{{namespace={literal(ns)}, condition="true"}} == 1))\n'
            f'  * on (namespace, job_name) group_left (owner_name)\n'
            f'    kube_job_owner{{namespace={literal(ns)}, owner_kind="CronJob", owner_name=~{literal(names)}}},\n'
            f'  "cronjob", "$1", "owner_name", "(.+)"))'
        )
        success = f'kube_cronjob_status_last_successful_time{{namespace={literal(ns)}}}'
        expr = (f"{failed_start}\n  > on (namespace, cronjob) {success}\n"
                f"or ({failed_start}\n  unless on (namespace, cronjob) {success})")

        def run(number: int, start: int, failed: bool) -> dict[str, str]:
            job = {"namespace": ns, "job_name": f"{first.name}-{29000000 + number}"}
            ksm = {"job": "kube-state-metrics", "instance": "10.0.3.7:8080"}
            return {
                f"kube_job_status_start_time{selector({**job, **ksm})}": f"{start}x40",
                f"kube_job_owner{selector({**job, **ksm, 'owner_kind': 'CronJob', 'owner_name': first.name, 'owner_is_controller': 'true'})}": "1x40",
                f"kube_job_failed{selector({**job, **ksm, 'condition': 'true'})}": f"{1 if failed else 0}x40",
                f"kube_job_failed{selector({**job, **ksm, 'condition': 'false'})}": f"{0 if failed else 1}x40",
            }

        ksm_cron = {**late, "job": "kube-state-metrics", "instance": "10.0.3.7:8080"}
        fired = {**late, "severity": "critical"}
        return [
            Alert(
                "BackupJobFailed", expr, "0m", "critical",
                "Backup job failed",
                "The last run of CronJob {{ $labels.cronjob }} in {{ $labels.namespace }} failed; the last good backup is getting older.",
                # A success at 600s, then a run that started at 1200s and failed.
                Scenario({**run(1, 0, False), **run(2, 1200, True), f"kube_cronjob_status_last_successful_time{selector(ksm_cron)}": "600x40"},
                         "25m", [fired]),
                # The failed Job object is still kept (and kube_job_failed still says 1),
                # but a later run succeeded: resolved.
                Scenario({**run(1, 0, True), **run(2, 1200, False), f"kube_cronjob_status_last_successful_time{selector(ksm_cron)}": "_x20 1500x20"},
                         "30m"),
                more=(
                    # A CronJob whose only runs failed has no last-success series at all.
                    Scenario(run(1, 0, True), "10m", [fired]),
                ),
            ),
            Alert(
                "BackupLate",
                "\nor\n".join(
                    f'(time() - kube_cronjob_status_last_successful_time{{namespace={literal(ns)}, cronjob={literal(job.name)}}}) > {job.alert_after_seconds}\n'
                    f'or ((time() - kube_cronjob_created{{namespace={literal(ns)}, cronjob={literal(job.name)}}}) > {job.alert_after_seconds}\n'
                    f'  unless on (namespace, cronjob) kube_cronjob_status_last_successful_time{{namespace={literal(ns)}, cronjob={literal(job.name)}}})'
                    for job in backups
                ),
                "0m", "warning",
                "Backup has not succeeded in time",
                "CronJob {{ $labels.cronjob }} in {{ $labels.namespace }} has not completed a backup in time.",
                # The last success lies before the test's clock starts; evaluating for a day
                # of test time would make promtool slow.
                Scenario({f"kube_cronjob_status_last_successful_time{selector(late)}": f"{-(first.alert_after_seconds + 600)}x20"}, "10m",
                         [{**late, "severity": "warning"}]),
                Scenario({f"kube_cronjob_status_last_successful_time{selector(late)}": "0+60x40"}, "30m"),
                more=(
                    # A CronJob that never succeeded has no last-success series at all.
                    Scenario({f"kube_cronjob_created{selector(never)}": f"{-(last.alert_after_seconds + 600)}x20"}, "10m",
                             [{**never, "severity": "warning"}]),
                    Scenario({f"kube_cronjob_created{selector(never)}": f"{-(last.alert_after_seconds + 600)}x20",
                              f"kube_cronjob_status_last_successful_time{selector(never)}": "0+60x20"}, "10m"),
                ),
            ),
        ]

    # -- panels every stack has -----------------------------------------------------------

    def container_panels(self) -> list[Panel]:
        if self.kubernetes is not None:
            ns = self.kubernetes.namespace
            by = "container"
            cpu = (f'sum by (container) (rate(container_cpu_usage_seconds_total{{namespace={literal(ns)}, container!="", container!="POD"}}[5m])) '
                   f'/ sum by (container) (kube_pod_container_resource_limits{{namespace={literal(ns)}, resource="cpu", unit="core"}})')
            mem = (f'sum by (container) (container_memory_working_set_bytes{{namespace={literal(ns)}, container!="", container!="POD"}}) '
                   f'/ sum by (container) (kube_pod_container_resource_limits{{namespace={literal(ns)}, resource="memory", unit="byte"}})')
            restarts = f'sum by (container) (increase(kube_pod_container_status_restarts_total{{namespace={literal(ns)}}}[1h]))'
        else:
            by, ours = "name", self.naming.scope
            cpu = (f"sum by (name) (rate(container_cpu_usage_seconds_total{{{ours}}}[5m])) / on (name) "
                   f"(sum by (name) (container_spec_cpu_quota{{{ours}}} > 0) / sum by (name) (container_spec_cpu_period{{{ours}}}))")
            mem = (f"sum by (name) (container_memory_working_set_bytes{{{ours}}}) / on (name) "
                   f"sum by (name) (container_spec_memory_limit_bytes{{{ours}}} > 0)")
            svc = self.naming.service_label
            if self.naming.platform == "swarm":
                by = svc
                restarts = f"sum by ({svc}) (changes(max by ({svc}) (container_start_time_seconds{{{ours}}})[1h:1m]))"
            else:
                restarts = f"sum by (name) (changes(container_start_time_seconds{{{ours}}}[1h]))"
        legend = "{{" + by + "}}"
        return [
            Panel("CPU use / limit", "percentunit", cpu, "{{name}}" if self.kubernetes is None else legend),
            Panel("Working set / memory limit", "percentunit", mem, "{{name}}" if self.kubernetes is None else legend),
            Panel("Container restarts (1h)", "short", restarts, legend),
        ]


def platforms_of(profile: Profile) -> tuple[Platform, ...]:
    """Where the profile's stack runs, the primary platform first: its cluster when it
    has one, then its compose file (a laptop's Compose v2 project or a swarm stack)."""
    compose: Platform = "swarm" if profile.environment.compose_mode == "swarm" else "compose"
    return ("kubernetes", compose) if profile.environment.kubernetes is not None else (compose,)


def naming_for(profile: Profile, profile_name: str, platform: Platform) -> Naming:
    if platform == "kubernetes":
        assert profile.environment.kubernetes is not None
        project = profile.environment.kubernetes.namespace
    elif platform == "swarm":
        from .plan import stack_name

        project = stack_name(profile.project.name, profile_name)
    else:
        project = profile.project.name  # the compose file's top-level name
    cadvisor = next(
        ((job, exporter) for job, exporter in profile.monitoring.exporters.items()
         if platform in exporter.platforms and "container_cpu_usage_seconds_total" in exporter.metrics),
        None,
    )
    job, instance = "cadvisor", "10.0.9.2:8080"
    if cadvisor is not None:
        job = cadvisor[0]
        if cadvisor[1].targets:
            instance = cadvisor[1].targets[0]
    return Naming(platform, project, job, instance)


def build_monitoring(
    profile: Profile,
    profile_name: str,
    platform: Platform,
    services: Mapping[str, ServicePlan],
    targets: Sequence[ScrapeTarget],
    backups: Sequence[BackupJob],
    catalogues: Mapping[str, tuple[str, ...]],
    roles: Mapping[str, Role],
) -> MonitoringPlan:
    """Rule groups, their unit tests and the dashboard panels for the planned stack on
    one platform."""
    naming = naming_for(profile, profile_name, platform)
    builder = _Builder(profile, services, naming)
    jobs = tuple(catalogues)
    prefix = profile.project.name
    records, http_alerts, http_panels = builder.http(targets)
    groups = [RuleGroup(f"{prefix}-containers", (), tuple(builder.container()))]
    if records or http_alerts:
        groups.append(RuleGroup(f"{prefix}-http", tuple(records), tuple(http_alerts)))
    groups.append(RuleGroup(f"{prefix}-targets", (), tuple(builder.targets(jobs, targets))))
    context = AlertContext(profile, profile_name, naming)
    role_panels: list[Panel] = []
    for kind in dict.fromkeys(s.kind for s in services.values()):
        of_kind = [s for s in services.values() if s.kind == kind]
        role = roles[kind]
        alerts = role.alerts(of_kind, context)
        if alerts:
            groups.append(RuleGroup(f"{prefix}-{kind}", (), tuple(alerts)))
        role_panels += role.panels(of_kind, context)
    if platform == "kubernetes":
        groups.append(RuleGroup(f"{prefix}-kubernetes", (), tuple(builder.kubernetes_operations(backups))))
    panels = [*builder.container_panels(), *http_panels, *role_panels, Panel("Scrape targets up", "short", "up", "{{job}} {{instance}}")]
    runbook = f"{profile.monitoring.runbook_base_url.rstrip('/')}/{profile_name}/docs/RUNBOOK.md"
    primary = platforms_of(profile)[0] == platform
    folder = "prometheus" if primary else f"prometheus/{platform}"
    dashboard = "grafana/dashboards/overview.json" if primary else f"grafana/dashboards/overview-{platform}.json"
    return MonitoringPlan(naming, folder, dashboard, tuple(g for g in groups if g.records or g.alerts), tuple(panels), runbook,
                          dict(catalogues))
