"""Monitoring is right per platform (issue 12, items 1, 2, 4, 5 and 6).

The committed rules are replayed by the real promtool against series written here by
hand, with the labels each platform really produces (cAdvisor's copies of Docker's
labels on Compose v2 and swarm, kube-state-metrics on Kubernetes): not the generated
scenarios, which come from the same code as the rules.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from .conftest import OUT, require_tool

READER = YAML(typ="safe", pure=True)


def alerts(profile: str, folder: str = "prometheus") -> dict[str, dict]:
    rules = READER.load((OUT / profile / folder / "rules.yml").read_text())
    return {rule["alert"]: rule for group in rules["groups"] for rule in group["rules"] if "alert" in rule}


def replay(tmp_path: Path, rules: Path, alertname: str, series: dict[str, str], eval_time: str, fires: list[dict[str, str]]) -> str:
    """Run promtool test rules on ``rules`` with one hand-written case: ``fires`` are
    the label sets of the alerts firing at ``eval_time``. Empty when it passes, else
    promtool's report."""
    promtool = require_tool("promtool")
    (tmp_path / "rules.yml").write_text(rules.read_text())
    case = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [{"series": s, "values": v} for s, v in series.items()],
            # ALERTS holds what fired, with its labels; exp_alerts would compare annotations too.
            "promql_expr_test": [{
                "expr": f'ALERTS{{alertname="{alertname}", alertstate="firing"}}',
                "eval_time": eval_time,
                "exp_samples": [{"labels": "ALERTS" + sel({"alertname": alertname, "alertstate": "firing", **labels}), "value": 1}
                                for labels in fires],
            }],
        }],
    }
    (tmp_path / "case.yml").write_text(vr_dump(case))
    done = subprocess.run([promtool, "test", "rules", "case.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr if done.returncode else ""


def vr_dump(data: object) -> str:
    import io

    stream = io.StringIO()
    YAML(typ="safe", pure=True).dump(data, stream)
    return stream.getvalue()


def sel(labels: dict[str, str]) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


# -- 1. each platform's container names -------------------------------------------------

#: A Compose v2 container as cAdvisor labels it: `docker compose up` of project vitalyst.
COMPOSE_BACKEND = {
    "id": "/system.slice/docker-5f2b.scope", "image": "ghcr.io/vitalyst/backend:dev", "instance": "cadvisor:8080",
    "job": "cadvisor-compose", "name": "vitalyst-backend-1",
    "container_label_com_docker_compose_project": "vitalyst", "container_label_com_docker_compose_service": "backend",
    "container_label_com_docker_compose_container_number": "1", "container_label_com_docker_compose_oneoff": "False",
}
#: The same service, deployed by `render deploy --platform swarm` (stack vitalyst-prod).
SWARM_BACKEND = {
    "id": "/docker/8a1c", "image": "ghcr.io/vitalyst/backend:1.0.0", "instance": "tasks.cadvisor:8080", "job": "cadvisor-swarm",
    "name": "vitalyst-prod_backend.2.8s7d6f5g4h3j", "container_label_com_docker_stack_namespace": "vitalyst-prod",
    "container_label_com_docker_swarm_service_name": "vitalyst-prod_backend",
    "container_label_com_docker_swarm_task_name": "vitalyst-prod_backend.2.8s7d6f5g4h3j",
}


def busy_cpu(labels: dict[str, str]) -> dict[str, str]:
    """Two of two cores for 30 minutes, under a limit of two cores."""
    return {
        f"container_cpu_usage_seconds_total{sel(labels)}": "0+120x30",
        f"container_spec_cpu_quota{sel(labels)}": "200000x30",
        f"container_spec_cpu_period{sel(labels)}": "100000x30",
    }


@pytest.mark.parametrize(("profile", "folder", "labels", "service_label"), [
    ("dev", "prometheus", COMPOSE_BACKEND, "container_label_com_docker_compose_service"),
    ("prod", "prometheus/swarm", SWARM_BACKEND, "container_label_com_docker_swarm_service_name"),
])
def test_container_alerts_fire_on_the_platforms_real_series(tmp_path, profile, folder, labels, service_label):
    fired = {service_label: labels[service_label], "name": labels["name"], "severity": "warning"}
    assert replay(tmp_path, OUT / profile / folder / "rules.yml", "ContainerHighCPU", busy_cpu(labels), "20m", [fired]) == ""


def test_another_projects_containers_on_the_same_host_stay_silent(tmp_path):
    stranger = {**COMPOSE_BACKEND, "name": "shop-backend-1", "container_label_com_docker_compose_project": "shop"}
    assert replay(tmp_path, OUT / "dev" / "prometheus" / "rules.yml", "ContainerHighCPU", busy_cpu(stranger), "20m", []) == ""


def test_each_platform_scrapes_names_that_exist_there():
    dev = (OUT / "dev" / "prometheus" / "prometheus.yml").read_text()
    swarm = READER.load((OUT / "prod" / "prometheus" / "swarm" / "prometheus.yml").read_text())
    assert "tasks." not in dev  # swarm's DNS names do not exist in a Compose v2 project
    assert "names: [redis-exporter]" in dev and '"cadvisor:8080"' in dev
    jobs = {job["job_name"]: job for job in swarm["scrape_configs"]}
    assert jobs["redis"]["dns_sd_configs"] == [{"names": ["tasks.redis-exporter"], "type": "A", "port": 9121}]
    assert jobs["cadvisor-swarm"]["static_configs"] == [{"targets": ["tasks.cadvisor:8080"]}]
    assert swarm["global"]["external_labels"] == {"environment": "prod", "platform": "swarm"}


# -- 6. swarm stacks get their own monitoring --------------------------------------------


@pytest.mark.parametrize("profile", ["staging", "prod"])
def test_swarm_monitoring_is_rendered_next_to_the_clusters(profile):
    manifest = (OUT / profile / "manifest.json").read_text()
    for path in ("prometheus/swarm/prometheus.yml", "prometheus/swarm/rules.yml", "prometheus/swarm/rules.test.yml",
                 "grafana/dashboards/overview-swarm.json"):
        assert f'"{path}"' in manifest, path
    swarm, cluster = alerts(profile, "prometheus/swarm"), alerts(profile)
    assert "BackupJobFailed" in cluster and "BackupJobFailed" not in swarm  # CronJobs run on Kubernetes only
    assert {"ContainerHighCPU", "TargetDown", "TargetsMissing", "RedisDown", "Neo4jDown"} <= set(swarm)


# -- 2. BackupJobFailed resolves after a later success ----------------------------------

KSM = {"job": "kube-state-metrics", "instance": "10.0.3.7:8080", "namespace": "vitalyst"}


def backup_run(number: int, started: int, failed: bool, cronjob: str = "neo4j-backup") -> dict[str, str]:
    job = {**KSM, "job_name": f"{cronjob}-{29400000 + number}"}
    return {
        f"kube_job_status_start_time{sel(job)}": f"{started}x60",
        f"kube_job_owner{sel({**job, 'owner_kind': 'CronJob', 'owner_name': cronjob, 'owner_is_controller': 'true'})}": "1x60",
        f"kube_job_failed{sel({**job, 'condition': 'true'})}": f"{int(failed)}x60",
        f"kube_job_failed{sel({**job, 'condition': 'false'})}": f"{int(not failed)}x60",
    }


def test_backup_failure_followed_by_a_success_resolves(tmp_path):
    rules = OUT / "prod" / "prometheus" / "rules.yml"
    success = f"kube_cronjob_status_last_successful_time{sel({**KSM, 'cronjob': 'neo4j-backup'})}"
    # Night one failed; its Job object is kept (failedJobsHistoryLimit) and kube_job_failed stays 1.
    failed_then_ok = {**backup_run(1, 0, True), **backup_run(2, 1800, False), success: "_x35 2400x25"}
    assert replay(tmp_path, rules, "BackupJobFailed", failed_then_ok, "50m", []) == ""
    ok_then_failed = {**backup_run(1, 0, False), **backup_run(2, 1800, True), success: "600x60"}
    assert replay(tmp_path, rules, "BackupJobFailed", ok_then_failed, "50m",
                  [{"namespace": "vitalyst", "cronjob": "neo4j-backup", "severity": "critical"}]) == ""


# -- 4. Redis memory alerts follow the maxmemory policy ------------------------------------


def rendered_alerts(overlay: str) -> set[str]:
    from vitalyst_render.checks.examples import example_rendering

    return {alert.name for alert in example_rendering("dev", overlay).plan.monitoring.alerts}


def test_a_full_cache_under_allkeys_lru_is_not_an_alert(tmp_path):
    names = set(alerts("dev"))
    assert "RedisMemoryNearMax" not in names and "RedisEvictingHeavily" in names
    at_max = {"job": "redis", "instance": "172.18.0.5:9121"}
    full = {f"redis_memory_used_bytes{sel(at_max)}": "734003200x30", f"redis_memory_max_bytes{sel(at_max)}": "734003200x30",
            f"redis_evicted_keys_total{sel(at_max)}": "0+300x30"}  # 5 evictions a second: a cache at work
    assert replay(tmp_path, OUT / "dev" / "prometheus" / "rules.yml", "RedisEvictingHeavily", full, "20m", []) == ""
    churning = {**full, f"redis_evicted_keys_total{sel(at_max)}": "0+12000x30"}  # 200 a second
    assert replay(tmp_path, OUT / "dev" / "prometheus" / "rules.yml", "RedisEvictingHeavily", churning, "20m",
                  [{**at_max, "severity": "warning"}]) == ""


def test_noeviction_alerts_on_memory_instead():
    names = rendered_alerts("services:\n  redis:\n    config:\n      maxmemory_policy: noeviction\n")
    assert "RedisMemoryNearMax" in names and "RedisEvictingHeavily" not in names


# -- 5. the alerts that were missing ----------------------------------------------------------


def test_redis_down_behind_a_live_exporter(tmp_path):
    exporter = {"job": "redis", "instance": "10.0.5.7:9121"}
    series = {f"up{sel(exporter)}": "1x30", f"redis_up{sel(exporter)}": "1x3 0x27"}
    assert replay(tmp_path, OUT / "prod" / "prometheus" / "swarm" / "rules.yml", "RedisDown", series, "20m",
                  [{**exporter, "severity": "critical"}]) == ""


def test_neo4j_not_ready_on_kubernetes(tmp_path):
    sts = {**KSM, "statefulset": "neo4j"}
    series = {f"kube_statefulset_replicas{sel(sts)}": "1x30", f"kube_statefulset_status_replicas_ready{sel(sts)}": "0x30"}
    assert replay(tmp_path, OUT / "prod" / "prometheus" / "rules.yml", "Neo4jNotReady", series, "20m",
                  [{**sts, "severity": "critical"}]) == ""


def test_a_scrape_job_whose_targets_all_vanished(tmp_path):
    # Every swarm task of the frontend is gone: DNS finds nothing, so up{job="frontend"} is not 0 but absent.
    present = {f'up{{job="{job}", instance="10.0.5.{n}:9000"}}': "1x30" for n, job in enumerate(["backend", "redis", "cadvisor-swarm"])}
    assert replay(tmp_path, OUT / "prod" / "prometheus" / "swarm" / "rules.yml", "TargetsMissing", present, "20m",
                  [{"job": "frontend", "severity": "critical"}]) == ""
