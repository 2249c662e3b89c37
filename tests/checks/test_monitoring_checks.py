"""VR401–VR408 (our PromQL lint) and VR903–VR906 (promtool and amtool), PASS and FAIL,
plus the seed's three broken alerts, each of which the lint must catch."""

from __future__ import annotations

import json

import pytest

from ..conftest import require_tool
from .support import context, dump_yaml, problems, rendered

RULES = "prometheus/rules.yml"
LINT = ["VR401", "VR402", "VR403", "VR404", "VR405", "VR406", "VR407", "VR408"]

SEED_RULES = """groups:
  - name: container_alerts
    rules:
      - alert: ContainerHighCPU
        expr: container_cpu_usage_seconds_total > 0.8
        for: 5m
        labels: {severity: warning}
        annotations: {description: "Container {{ $labels.container }} CPU usage above 80%"}
      - alert: ContainerHighMemory
        expr: container_memory_usage_bytes > 0.85
        for: 5m
        labels: {severity: warning}
        annotations: {description: "Container {{ $labels.container }} memory usage above 85%"}
      - alert: ContainerRestarting
        expr: rate(container_restart_count[5m]) > 0
        for: 2m
        labels: {severity: warning}
        annotations: {description: "Container {{ $labels.container }} restarting frequently"}
"""


def alert(expr: str, drop: tuple[str, ...] = (), **extra) -> str:
    rule = {
        "alert": extra.pop("name", "Probe"),
        "expr": expr,
        "for": "5m",
        "labels": {"severity": "warning"},
        "annotations": {"summary": "s", "description": "d", "runbook_url": "https://x/Probe"},
    }
    rule.update(extra)
    for key in drop:
        del rule[key]
    return dump_yaml({"groups": [{"name": "g", "rules": [rule]}]})


def lint(check_id: str, rules_text: str, profile: str = "staging"):
    """Findings about the rule file only (dashboards keep using the real rules)."""
    found = problems(check_id, context(profile, {RULES: rules_text}))
    return [p.message for p in found if p.location.file.endswith(RULES)]


@pytest.mark.parametrize("check_id", LINT)
@pytest.mark.parametrize("profile", ["dev", "staging", "prod"])
def test_committed_rules_and_dashboards_pass(check_id, profile):
    assert problems(check_id, context(profile)) == []


def test_seed_rules_are_each_caught():
    assert any("container_cpu_usage_seconds_total is used without rate()" in m for m in lint("VR402", SEED_RULES))
    assert any("container_memory_usage_bytes (bytes) is compared with 0.85" in m for m in lint("VR403", SEED_RULES))
    assert any("container_restart_count is not exported" in m for m in lint("VR404", SEED_RULES))
    assert sum("has no runbook_url" in m for m in lint("VR406", SEED_RULES)) == 3


def test_vr401_pass():
    assert lint("VR401", alert("sum by (job) (rate(http_requests_total[5m])) > 1")) == []


def test_vr401_fail_rule_and_panel():
    assert any("does not parse" in m for m in lint("VR401", alert("rate(http_requests_total[5m]")))
    dashboard = json.loads(rendered("staging").files["grafana/dashboards/overview.json"])
    dashboard["panels"][0]["targets"][0]["expr"] = "sum(rate(up[5m]"
    ctx = context("staging", {"grafana/dashboards/overview.json": json.dumps(dashboard, indent=2)})
    (problem,) = problems("VR401", ctx)
    assert "panel expression does not parse" in problem.message and problem.location.line > 0


def test_vr402_pass_counters_under_rate_and_increase():
    assert lint("VR402", alert("increase(kube_pod_container_status_restarts_total[15m]) > 0")) == []


def test_vr402_fail_aggregated_counter():
    assert lint("VR402", alert("sum(http_requests_total) > 100")) == [
        "counter http_requests_total is used without rate(), irate() or increase()"
    ]


def test_vr403_pass_ratio_and_absolute_bytes():
    assert lint("VR403", alert("container_memory_working_set_bytes / container_spec_memory_limit_bytes > 0.85")) == []
    assert lint("VR403", alert("kubelet_volume_stats_available_bytes < 1e9")) == []


def test_vr403_fail_bytes_against_ratio():
    assert lint("VR403", alert("sum(container_memory_working_set_bytes) > 0.9")) == [
        "container_memory_working_set_bytes (bytes) is compared with 0.9, a ratio"
    ]


def test_vr404_pass_recording_rules_count_as_known():
    rules = dump_yaml({"groups": [{"name": "g", "rules": [
        {"record": "job:up:sum", "expr": "sum by (job) (up)"},
        {"alert": "X", "expr": "job:up:sum == 0", "for": "1m", "labels": {"severity": "info"},
         "annotations": {"summary": "s", "description": "d", "runbook_url": "u"}},
    ]}]})
    assert lint("VR404", rules) == []


def test_vr404_fail_platform_catalogue():
    # kube-state-metrics is declared for Kubernetes only; the dev (compose) profile has none.
    assert lint("VR404", alert("kube_pod_container_status_restarts_total > 0"), profile="dev") == [
        "metric kube_pod_container_status_restarts_total is not exported by any declared exporter"
    ]


def test_vr405_pass():
    assert lint("VR405", alert("rate(http_requests_total[2m]) > 1")) == []


def test_vr405_fail_short_window():
    assert lint("VR405", alert("rate(http_requests_total[1m]) > 1")) == [
        "rate() over 60s is shorter than 4 × scrape_interval (120s)"
    ]


def test_vr406_pass():
    assert lint("VR406", alert("up == 0")) == []


def test_vr406_fail_missing_for_severity_and_annotations():
    found = lint("VR406", alert("up == 0", drop=("for",), labels={"severity": "page"}, annotations={"summary": "s"}))
    assert "alert Probe has no for" in found
    assert "alert Probe has severity 'page'; expected one of ['critical', 'info', 'warning']" in found
    assert "alert Probe has no runbook_url annotation" in found and "alert Probe has no description annotation" in found


def test_vr407_pass():
    assert lint("VR407", alert("up == 0")) == []


def test_vr407_fail_duplicate_alert():
    rule = {"alert": "TargetDown", "expr": "up == 0", "for": "5m", "labels": {"severity": "critical"},
            "annotations": {"summary": "s", "description": "d", "runbook_url": "u"}}
    rules = dump_yaml({"groups": [{"name": "a", "rules": [rule]}, {"name": "b", "rules": [rule]}]})
    (problem,) = problems("VR407", context("staging", {RULES: rules}))
    assert problem.message == "alert TargetDown is defined twice" and problem.related


def test_vr408_pass():
    assert lint("VR408", alert("sum by (namespace, pod) (rate(http_requests_total[5m])) > 1",
                               annotations={"summary": "s", "description": "{{ $labels.pod }}", "runbook_url": "u"})) == []


def test_vr408_fail_label_lost_in_aggregation():
    found = lint("VR408", alert("sum by (namespace) (rate(http_requests_total[5m])) > 1",
                                annotations={"summary": "s", "description": "pod {{ $labels.pod }}", "runbook_url": "u"}))
    assert found == ["alert Probe annotation description uses $labels.pod, but the result carries only ['namespace']"]


# -- the real tools -------------------------------------------------------------------------


@pytest.fixture
def promtool():
    return require_tool("promtool")


@pytest.mark.parametrize("profile", ["dev", "staging", "prod"])
def test_vr903_pass(promtool, profile):
    assert problems("VR903", context(profile)) == []


@pytest.mark.parametrize("profile", ["dev", "staging", "prod"])
def test_vr904_pass(promtool, profile):
    assert problems("VR904", context(profile)) == []


@pytest.mark.parametrize("profile", ["dev", "staging", "prod"])
def test_vr905_pass(promtool, profile):
    # Kubernetes profiles: one info finding that says the SD blocks were checked by us.
    assert [p.severity.value for p in problems("VR905", context(profile))] == ([] if profile == "dev" else ["info"])


def test_vr903_fail_bad_expression(promtool):
    found = problems("VR903", context("dev", {RULES: alert("rate(up[5m]")}))
    assert found and all(p.location.file == "out/dev/prometheus/rules.yml" for p in found)


def test_vr904_fail_seed_cpu_rule_fires_when_idle(promtool):
    # Replace our CPU alert's expression with the seed's: the idle scenario now fires.
    rules = rendered("dev").artefacts[RULES].data
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == "ContainerHighCPU":
                rule["expr"] = "container_cpu_usage_seconds_total > 0.8"
    (problem,) = problems("VR904", context("dev", {RULES: dump_yaml(rules)}))
    assert "ContainerHighCPU" in problem.message and "FAILED" in problem.message


def test_vr905_fail_bad_interval(promtool):
    config = dict(rendered("dev").artefacts["prometheus/prometheus.yml"].data)
    config["global"] = {**config["global"], "scrape_interval": "often"}
    found = problems("VR905", context("dev", {"prometheus/prometheus.yml": dump_yaml(config)}))
    assert found and "often" in " ".join(p.message for p in found)


def test_vr905_kubernetes_sd_blocks_are_checked_by_us(promtool):
    config = json.loads(json.dumps(rendered("staging").artefacts["prometheus/prometheus.yml"].data))
    config["scrape_configs"][0]["kubernetes_sd_configs"][0]["role"] = "pods"
    found = problems("VR905", context("staging", {"prometheus/prometheus.yml": dump_yaml(config)}))
    assert any(p.severity is None and "role 'pods'" in p.message for p in found)  # None: the check's default, error


def test_vr906_pass(promtool):
    require_tool("amtool")
    assert problems("VR906", context("prod")) == []


def test_vr906_fail_unknown_receiver():
    require_tool("amtool")
    config = json.loads(json.dumps(rendered("prod").artefacts["prometheus/alertmanager.yml"].data))
    config["route"]["receiver"] = "nobody"
    found = problems("VR906", context("prod", {"prometheus/alertmanager.yml": dump_yaml(config)}))
    assert found and any("nobody" in p.message for p in found)


@pytest.mark.parametrize(
    "expr",
    [
        "topk(3, sum by (pod) (rate(http_requests_total[5m]))) > 1",
        'label_replace(sum by (namespace) (rate(http_requests_total[5m])), "pod", "$1", "namespace", "(.*)") > 1',
    ],
)
def test_vr408_pass_label_keeping_functions(expr):
    assert lint("VR408", alert(expr, annotations={"summary": "s", "description": "{{ $labels.pod }}", "runbook_url": "u"})) == []


def test_vr403_fail_through_over_time():
    assert lint("VR403", alert("max_over_time(container_memory_working_set_bytes[5m]) > 0.85")) == [
        "container_memory_working_set_bytes (bytes) is compared with 0.85, a ratio"
    ]
