"""What issue 5 promises of the committed monitoring files, read from out/."""

from __future__ import annotations

import json

import pytest
from ruamel.yaml import YAML

from vitalyst_render.checks._promql import parse

from .conftest import OUT

READER = YAML(typ="safe", pure=True)
PROFILES = ["dev", "staging", "prod"]


def load(profile: str, path: str):
    return READER.load((OUT / profile / path).read_text())


@pytest.mark.parametrize("profile", PROFILES)
def test_every_alert_has_a_firing_and_a_silent_scenario(profile):
    alerts = {r["alert"] for g in load(profile, "prometheus/rules.yml")["groups"] for r in g["rules"] if "alert" in r}
    cases = [case for test in load(profile, "prometheus/rules.test.yml")["tests"] for case in test["alert_rule_test"]]
    firing = {c["alertname"] for c in cases if c["exp_alerts"]}
    silent = {c["alertname"] for c in cases if not c["exp_alerts"]}
    assert alerts and firing == alerts and silent == alerts
    assert len(cases) >= 6


@pytest.mark.parametrize("profile", PROFILES)
def test_alerts_carry_severity_and_runbook(profile):
    for group in load(profile, "prometheus/rules.yml")["groups"]:
        for rule in group["rules"]:
            if "alert" in rule:
                assert rule["labels"]["severity"] in ("critical", "warning", "info")
                assert {"summary", "description", "runbook_url"} <= set(rule["annotations"])


def test_platform_specific_alerts():
    kubernetes = {r["alert"] for g in load("prod", "prometheus/rules.yml")["groups"] for r in g["rules"] if "alert" in r}
    compose = {r["alert"] for g in load("dev", "prometheus/rules.yml")["groups"] for r in g["rules"] if "alert" in r}
    assert {"BackupJobFailed", "BackupLate", "HorizontalPodAutoscalerMaxedOut", "DeploymentRolloutStuck", "PersistentVolumeFillingUp"} <= kubernetes
    assert not compose & {"BackupJobFailed", "HorizontalPodAutoscalerMaxedOut"}
    assert {"ContainerHighCPU", "ContainerHighMemory", "ContainerRestarting", "HttpHighErrorRate", "HttpHighLatency",
            "TargetDown", "TargetsMissing", "RedisDown", "RedisEvictingHeavily", "RedisRejectedConnections"} <= compose & kubernetes
    # Neo4j: kube-state-metrics says ready on Kubernetes; Docker exports no health, only running containers.
    assert "Neo4jNotReady" in kubernetes and "Neo4jDown" in compose
    # allkeys-lru: a full cache is normal, so no alert on memory near maxmemory anywhere.
    assert "RedisMemoryNearMax" not in compose | kubernetes


@pytest.mark.parametrize("profile", PROFILES)
def test_scrape_jobs_are_the_scraped_services_and_the_declared_exporters(profile):
    import vitalyst_render as vr

    loaded = vr.load_profile(profile)
    declared = loaded.profile.monitoring.exporters
    platform = "kubernetes" if profile != "dev" else "compose"
    jobs = [job["job_name"] for job in load(profile, "prometheus/prometheus.yml")["scrape_configs"]]
    # Services with a metrics endpoint, and Redis through its exporter sidecar.
    assert jobs == ["backend", "frontend", "redis"] + [name for name, exporter in declared.items() if platform in exporter.platforms]


@pytest.mark.parametrize("profile", PROFILES)
def test_dashboard_queries_parse_and_cover_the_signals(profile):
    dashboard = json.loads((OUT / profile / "grafana" / "dashboards" / "overview.json").read_text())
    titles = [p["title"] for p in dashboard["panels"]]
    for expected in ("CPU", "memory", "restarts", "requests", "5xx", "latency", "Redis", "Neo4j"):
        assert any(expected.lower() in t.lower() for t in titles), expected
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            assert not isinstance(parse(target["expr"]), Exception), target["expr"]


def test_prometheus_rule_object_mirrors_rules_file():
    (rule,) = READER.load_all((OUT / "prod" / "kubernetes" / "prometheusrule.yaml").read_text())
    assert rule["kind"] == "PrometheusRule" and rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["spec"]["groups"] == load("prod", "prometheus/rules.yml")["groups"]
