"""VR601–VR607: checks across artefacts. Each FAIL fixture mutates one artefact of a
valid render (or the profile) and asserts the finding and both of its locations."""

from __future__ import annotations

import dataclasses

import pytest

import vitalyst_render as vr

from .support import context, first_container, kind, mutated, problems, rendered

CROSS = [f"VR60{n}" for n in range(1, 8)]
COMPOSE = "compose/docker-compose.yml"


@pytest.mark.parametrize("check_id", CROSS)
@pytest.mark.parametrize("profile", ["dev", "staging", "prod"])
def test_committed_output_satisfies_every_invariant(check_id, profile):
    assert problems(check_id, context(profile)) == []


def with_profile(ctx, **changes):
    """The same artefacts, checked against a changed profile."""
    loaded = ctx.loaded
    return dataclasses.replace(ctx, loaded=dataclasses.replace(loaded, profile=loaded.profile.model_copy(update=changes)))


def test_vr601_pass():
    assert problems("VR601", context("staging")) == []


def test_vr601_fail_probe_drift_points_at_both_places():
    ctx = mutated("staging", "kubernetes/backend.yaml", lambda docs: first_container(docs)["readinessProbe"].update(periodSeconds=10))
    (problem,) = problems("VR601", ctx)
    assert "readinessProbe interval is 10" in problem.message
    assert problem.location.file == "out/staging/kubernetes/backend.yaml" and problem.location.line > 0
    assert problem.related[0].file == "out/staging/compose/docker-compose.yml"


def test_vr601_fail_dockerfile_port():
    text = rendered("dev").files["docker/backend/Dockerfile"].decode().replace("127.0.0.1:8000/health", "127.0.0.1:8080/health")
    found = problems("VR601", context("dev", {"docker/backend/Dockerfile": text}))
    assert any("HEALTHCHECK port is 8080" in p.message and p.related[0].file.endswith(COMPOSE) for p in found)


def test_vr602_pass():
    assert problems("VR602", context("prod")) == []


def test_vr602_fail_container_port_and_scrape_port():
    ctx = mutated("staging", "kubernetes/backend.yaml", lambda docs: first_container(docs)["ports"][0].update(containerPort=8080))
    assert any("containerPorts [8080]" in p.message and p.related for p in problems("VR602", ctx))
    def scrape(config):
        config["scrape_configs"][2]["relabel_configs"][1]["regex"] = "9100"
    found = problems("VR602", mutated("staging", "prometheus/prometheus.yml", scrape))
    assert any("Prometheus scrapes port 9100 but metrics are on 9121" in p.message for p in found)


def test_vr603_pass():
    assert problems("VR603", context("prod")) == []


def test_vr603_fail_seed_maxmemory_and_neo4j_heap():
    text = rendered("prod").files["redis/redis.conf"].decode().replace("maxmemory 751619276", "maxmemory 1gb")
    (problem,) = problems("VR603", context("prod", {"redis/redis.conf": text}))
    assert "more than 75%" in problem.message and "fork headroom" in problem.message
    assert problem.location.file == "out/prod/redis/redis.conf"
    assert {r.file for r in problem.related} == {"out/prod/compose/docker-compose.yml", "out/prod/kubernetes/redis.yaml"}
    ctx = context("prod")
    neo4j = ctx.profile.services["neo4j"]
    heavy = neo4j.model_copy(update={"env": {**neo4j.env, "NEO4J_server_memory_heap_max__size": "4G", "NEO4J_server_memory_pagecache_size": "4G"}})
    found = problems("VR603", with_profile(ctx, services={**ctx.profile.services, "neo4j": heavy}))
    assert any("heap + page cache" in p.message and p.related for p in found)


def test_vr603_fail_compose_and_kubernetes_limits_differ():
    ctx = mutated("prod", "kubernetes/frontend.yaml", lambda docs: first_container(docs)["resources"]["limits"].update(memory="3Gi"))
    (problem,) = problems("VR603", ctx)
    assert "Kubernetes limits memory 3Gi differs" in problem.message and problem.related[0].file.endswith(COMPOSE)


def test_vr604_pass():
    assert problems("VR604", context("prod")) == []


def test_vr604_fail_different_image():
    ctx = mutated("prod", "kubernetes/redis.yaml", lambda docs: kind(docs, "StatefulSet")["spec"]["template"]["spec"]["containers"][0].update(image="redis:7.2"))
    (problem,) = problems("VR604", ctx)
    assert "Kubernetes runs 'redis:7.2'" in problem.message
    assert problem.location.file.endswith("kubernetes/redis.yaml") and problem.related[0].file.endswith(COMPOSE)


def test_vr605_pass():
    assert problems("VR605", context("staging")) == []


def test_vr605_fail_undeclared_policy_edge_and_missing_edge():
    def change(docs):
        ingress = kind(docs, "NetworkPolicy", "neo4j-ingress")["spec"]["ingress"]
        ingress[0]["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] = "frontend"

    found = {p.message: p for p in problems("VR605", mutated("staging", "kubernetes/networkpolicy.yaml", change))}
    opened = found["ingress policy opens frontend → neo4j:7687, which the profile does not declare"]
    missing = found["declared edge backend → neo4j:7687 has no ingress rule"]
    for problem in (opened, missing):
        assert problem.location.file == "out/staging/kubernetes/networkpolicy.yaml"
        assert problem.related[0].file == "profiles/base.yaml" and problem.related[0].line > 0


def test_vr605_fail_compose_network_shared_with_data_store():
    found = [p.message for p in problems("VR605", mutated("dev", COMPOSE, lambda d: d["services"]["frontend"]["networks"].append("redis-net")))]
    assert found == ["compose: frontend shares network 'redis-net' with data store redis without depending on it"]


def test_vr606_pass():
    assert problems("VR606", context("prod")) == []


def test_vr606_fail_literal_password_in_profile_env():
    from vitalyst_render.checks.context import CheckContext

    loaded = vr.load_profile("prod")
    backend = loaded.profile.services["backend"]
    leaky = backend.model_copy(update={"env": {**backend.env, "DB_PASSWORD": "hunter2"}})
    leaked = dataclasses.replace(loaded, profile=loaded.profile.model_copy(update={"services": {**loaded.profile.services, "backend": leaky}}))
    ctx = CheckContext(leaked, vr.render(leaked).artefacts, "out/prod")
    (problem,) = [p for p in problems("VR606", ctx) if "DB_PASSWORD" in p.message]
    assert problem.location.file.endswith(COMPOSE) and problem.location.line > 0
    assert {r.file for r in problem.related} == {"out/prod/kubernetes/backend.yaml", "profiles/base.yaml"}


def test_vr606_fail_undeclared_unused_and_known_formats():
    def change(data):
        data["services"]["backend"]["secrets"].append({"source": "stripe-key", "target": "/run/secrets/stripe-key"})
        data["services"]["backend"]["environment"]["NOTE"] = "AKIAABCDEFGHIJKLMNOP"

    found = [p.message for p in problems("VR606", mutated("dev", COMPOSE, change))]
    assert "secret 'stripe-key' is used but not declared in the profile" in found
    assert "AWS access key found in a generated file" in found
    unused = with_profile(context("dev"), secrets={**context("dev").profile.secrets, "spare": vr.Profile.model_fields["secrets"].annotation.__args__[1](description="x")})
    assert "secret 'spare' is declared but nothing uses it" in [p.message for p in problems("VR606", unused)]


def test_vr607_pass():
    assert problems("VR607", context("prod")) == []


def test_vr607_pass_root_route_catches_every_severity():
    def root_only(config):
        config["route"].pop("routes")

    assert problems("VR607", mutated("prod", "prometheus/alertmanager.yml", root_only)) == []


def test_vr607_fail_unscraped_exporter_raw_ratio_and_unrouted_severity():
    def drop_redis_job(config):
        config["scrape_configs"] = [job for job in config["scrape_configs"] if job["job_name"] != "redis"]

    found = [p.message for p in problems("VR607", mutated("staging", "prometheus/prometheus.yml", drop_redis_job))]
    assert any("RedisMemoryNearMax reads redis_memory_max_bytes from redis, which prometheus.yml does not scrape" in m for m in found)

    def only_critical(config):
        # The root route goes to a receiver with no integration: only critical is delivered.
        config["receivers"].append({"name": "null"})
        config["route"]["receiver"] = "null"
        config["route"]["routes"] = [dict(config["route"]["routes"][0], matchers=['severity="critical"'])]

    found = [p.message for p in problems("VR607", mutated("staging", "prometheus/alertmanager.yml", only_critical))]
    assert any("severity 'warning', which no Alertmanager route sends anywhere" in m for m in found)

    from .support import dump_yaml

    raw = dump_yaml({"groups": [{"name": "g", "rules": [{"alert": "Raw", "expr": "sum(container_memory_working_set_bytes) > 0.9", "for": "5m",
                                                          "labels": {"severity": "warning"}, "annotations": {"summary": "s", "description": "d", "runbook_url": "u"}}]}]})
    found = [p.message for p in problems("VR607", context("staging", {"prometheus/rules.yml": raw}))]
    assert "alert Raw compares with 0.9 without dividing by a limit or total" in found
