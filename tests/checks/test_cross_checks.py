"""VR601–VR607: checks across artefacts. Each FAIL case mutates one artefact of a valid
render (or the profile) and asserts the exact finding and both of its locations. The
open-stack profile (a worker sharing the backend's image, an nginx, a second Redis)
gets the same treatment: the invariants hold for services nobody hard-coded."""

from __future__ import annotations

import pytest

from .support import context, first_container, kind, mutated, overlay, problems, rendered

CROSS = [f"VR60{n}" for n in range(1, 8)]
COMPOSE = "compose/docker-compose.yml"
PROFILES = ["dev", "staging", "prod", "open-stack"]


@pytest.mark.parametrize("check_id", CROSS)
@pytest.mark.parametrize("profile", PROFILES)
def test_every_invariant_holds_for_committed_and_open_profiles(check_id, profile):
    assert problems(check_id, context(profile)) == []


def messages(check_id, ctx):
    return sorted(p.message for p in problems(check_id, ctx))


# -- VR601 health parity ----------------------------------------------------------------


def test_vr601_fail_probe_drift_points_at_artefact_and_profile():
    ctx = mutated("staging", "kubernetes/backend.yaml", lambda docs: first_container(docs)["readinessProbe"].update(periodSeconds=10))
    (problem,) = problems("VR601", ctx)
    assert problem.message == "service backend: Deployment backend readinessProbe interval is 10 but its health block says 30"
    assert problem.location.file == "out/staging/kubernetes/backend.yaml" and problem.location.line > 0
    assert problem.related[0].file == "profiles/base.yaml" and problem.related[0].line > 0


def test_vr601_fail_dockerfile_probe_vector_differs():
    text = rendered("dev").files["docker/backend/Dockerfile"].decode().replace("127.0.0.1:8000/health", "127.0.0.1:8080/health")
    (problem,) = problems("VR601", context("dev", {"docker/backend/Dockerfile": text}))
    assert problem.message.startswith('service backend: Dockerfile HEALTHCHECK argv is "python -c import sys')
    assert "127.0.0.1:8080/health" in problem.message and problem.location.file == "out/dev/docker/backend/Dockerfile"


def test_vr601_pass_neo4j_custom_health_path_renders_without_false_findings():
    # The probe used to be read back out of the bash command line with a regex, which
    # lost any path it did not expect and reported two false errors.
    result = overlay("extends: prod\nservices:\n  neo4j:\n    health:\n      path: /db/neo4j/cluster/available\n", "custom-health")
    from .support import context_of

    assert problems("VR601", context_of(result)) == []
    assert "/db/neo4j/cluster/available" in result.files["compose/docker-compose.yml"].decode()


def test_vr601_fail_new_service_probe_drift():
    ctx = mutated("open-stack", "kubernetes/worker.yaml", lambda docs: first_container(docs)["livenessProbe"]["httpGet"].update(path="/"))
    assert messages("VR601", ctx) == [
        "service worker: Deployment worker-blue livenessProbe path is '/' but its health block says '/healthz'"
    ]


def test_vr601_fail_compose_command_probe_of_the_second_redis():
    def change(data):
        data["services"]["cache"]["healthcheck"]["test"] = ["CMD", "redis-cli", "ping"]

    (problem,) = problems("VR601", mutated("open-stack", COMPOSE, change))
    assert problem.message.startswith("service cache: compose healthcheck argv is 'redis-cli ping' but its health block says 'sh -c")


# -- VR602 ports -------------------------------------------------------------------------


def test_vr602_fail_container_port_and_scrape_port():
    ctx = mutated("staging", "kubernetes/backend.yaml", lambda docs: first_container(docs)["ports"][0].update(containerPort=8080))
    problem, unexposed = problems("VR602", ctx)
    assert problem.message == "service backend: containerPorts [8080] but the profile's ports are [8000]"
    assert problem.related[0].file == "profiles/base.yaml"
    assert unexposed.message == "service backend: Prometheus scrapes port 8000, which no container of the pod exposes"

    def scrape(config):
        job = next(j for j in config["scrape_configs"] if j["job_name"] == "redis")
        job["relabel_configs"][1]["regex"] = "9100"

    assert messages("VR602", mutated("staging", "prometheus/prometheus.yml", scrape)) == [
        "service redis: Prometheus scrapes port 9100 but metrics are on 9121",
        "service redis: Prometheus scrapes port 9100, which no container of the pod exposes",
    ]


def test_vr602_fail_new_services_ports():
    def scrape(config):
        next(j for j in config["scrape_configs"] if j["job_name"] == "cache")["relabel_configs"][1]["regex"] = "9121"
        next(j for j in config["scrape_configs"] if j["job_name"] == "worker")["relabel_configs"][1]["regex"] = "9200"

    assert messages("VR602", mutated("open-stack", "prometheus/prometheus.yml", scrape)) == [
        "service worker: Prometheus scrapes port 9200 but metrics are on 9100",
        "service worker: Prometheus scrapes port 9200, which no container of the pod exposes",
    ]


# -- VR603 memory -------------------------------------------------------------------------


def test_vr603_fail_seed_maxmemory():
    text = rendered("prod").files["redis/redis.conf"].decode().replace("maxmemory 751619276", "maxmemory 1gb")
    (problem,) = problems("VR603", context("prod", {"redis/redis.conf": text}))
    assert problem.message == ("service redis: maxmemory while it persists (a save forks and copies pages) is 1.00 GiB, "
                               "more than 75% of its 1Gi memory limit")
    assert problem.location.file == "out/prod/redis/redis.conf" and problem.location.line > 0
    assert problem.related[0].file == "profiles/base.yaml"


def test_vr603_fail_neo4j_heap_from_the_profile():
    result = overlay("extends: prod\nservices:\n  neo4j:\n    memory: {heap: 4g, pagecache: 4g}\n", "heavy")
    from .support import context_of

    found = problems("VR603", context_of(result))
    assert sorted((p.location.file, p.message) for p in found) == [
        ("out/heavy/compose/docker-compose.yml",
         "service neo4j: heap + page cache (the JVM needs the rest) is 8.00 GiB, more than 90% of its 8Gi memory limit"),
        ("out/heavy/kubernetes/neo4j.yaml",
         "service neo4j: heap + page cache (the JVM needs the rest) is 8.00 GiB, more than 90% of its 8Gi memory limit"),
    ]


def test_vr603_fail_second_redis_cache_with_a_bigger_maxmemory():
    text = rendered("open-stack").files["redis/cache.conf"].decode()
    text = "\n".join("maxmemory 600000000" if line.startswith("maxmemory ") else line for line in text.split("\n"))
    assert messages("VR603", context("open-stack", {"redis/cache.conf": text})) == [
        "service cache: maxmemory is 0.56 GiB, more than 100% of its 512Mi memory limit"
    ]


def test_vr603_fail_compose_and_kubernetes_limits_differ():
    ctx = mutated("prod", "kubernetes/frontend.yaml", lambda docs: first_container(docs)["resources"]["limits"].update(memory="3Gi"))
    (problem,) = problems("VR603", ctx)
    assert problem.message == "service frontend: Kubernetes limits memory 3Gi differs from the profile's 2Gi"
    assert problem.location.file == "out/prod/kubernetes/frontend.yaml" and problem.related[0].file == "profiles/base.yaml"


# -- VR604 images -------------------------------------------------------------------------


def test_vr604_fail_different_image():
    ctx = mutated("prod", "kubernetes/redis.yaml", lambda docs: kind(docs, "StatefulSet")["spec"]["template"]["spec"]["containers"][0].update(image="redis:7.2"))
    (problem,) = problems("VR604", ctx)
    assert problem.message.startswith("service redis: StatefulSet redis runs 'redis:7.2' but the plan says 'redis:7.0.15-bookworm@sha256:")
    assert problem.related[0].file == "out/prod/compose/docker-compose.yml"


def test_vr604_worker_runs_the_backend_image_and_its_idle_release():
    plan = rendered("open-stack").plan
    assert plan.services["worker"].image == plan.services["backend"].image
    assert plan.services["worker"].images_by_colour["green"] == "ghcr.io/vitalyst/backend:1.1.0@sha256:" + "ab" * 32

    def change(data):
        data["services"]["worker"]["image"] = "ghcr.io/vitalyst/worker:1.0.0@sha256:" + "77" * 32

    (problem,) = problems("VR604", mutated("open-stack", COMPOSE, change))
    assert problem.message.startswith("service worker: compose runs 'ghcr.io/vitalyst/worker:1.0.0@")


# -- VR605 edges --------------------------------------------------------------------------


def test_vr605_fail_unplanned_policy_edge_and_missing_edge():
    def change(docs):
        ingress = kind(docs, "NetworkPolicy", "neo4j-ingress")["spec"]["ingress"]
        ingress[0]["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] = "frontend"

    found = {p.message: p for p in problems("VR605", mutated("staging", "kubernetes/networkpolicy.yaml", change))}
    assert sorted(found) == [
        "ingress policy opens frontend → neo4j:7687, which the plan does not have",
        "planned edge backend → neo4j:7687 has no ingress rule",
    ]
    for problem in found.values():
        assert problem.location.file == "out/staging/kubernetes/networkpolicy.yaml"
        assert problem.related[0].file == "profiles/base.yaml" and problem.related[0].line > 0


def test_vr605_fail_compose_network_shared_without_an_edge():
    found = messages("VR605", mutated("dev", COMPOSE, lambda d: d["services"]["frontend"]["networks"].append("backend-to-redis")))
    # frontend may share with backend (it calls it), not with redis.
    assert found == ["compose: frontend and redis share network 'backend-to-redis', though no edge joins them"]


def test_vr605_new_services_get_exactly_their_edges():
    plan = rendered("open-stack").plan
    assert {(e.caller, e.callee, e.port) for e in plan.edges_from("worker")} == {
        ("worker", "neo4j", 7687), ("worker", "redis", 6379), ("worker", "cache", 6379)
    }
    assert plan.edges_to("docs") == ()
    # Two callers of one database never share a network: worker and backend meet nowhere.
    compose = rendered("open-stack").artefacts[COMPOSE].data["services"]
    assert not set(compose["worker"]["networks"]) & set(compose["backend"]["networks"])

    def change(docs):
        egress = kind(docs, "NetworkPolicy", "worker-egress")["spec"]["egress"]
        egress.append({"to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "docs"}}}], "ports": [{"protocol": "TCP", "port": 8080}]})

    assert messages("VR605", mutated("open-stack", "kubernetes/networkpolicy.yaml", change)) == [
        "egress policy opens worker → docs:8080, which the plan does not have"
    ]

    def join(data):
        data["services"]["worker"]["networks"].append("backend-to-neo4j")

    # worker may meet neo4j (it calls it), never backend.
    assert messages("VR605", mutated("open-stack", COMPOSE, join)) == [
        "compose: backend and worker share network 'backend-to-neo4j', though no edge joins them",
    ]


# -- VR606 secrets ------------------------------------------------------------------------


def test_vr606_fail_literal_password_in_profile_env():
    from .support import context_of

    result = overlay("extends: prod\nservices:\n  backend:\n    env:\n      DB_PASSWORD: hunter2\n", "leaky")
    (problem,) = [p for p in problems("VR606", context_of(result)) if "DB_PASSWORD" in p.message]
    assert problem.message == "services.backend.env.DB_PASSWORD holds a credential literal"
    assert problem.location.file == "out/leaky/compose/docker-compose.yml" and problem.location.line > 0
    assert {r.file for r in problem.related} >= {"out/leaky/kubernetes/backend.yaml"}


def test_vr606_fail_undeclared_unused_and_known_formats():
    def change(data):
        data["services"]["backend"]["secrets"].append({"source": "stripe-key", "target": "/run/secrets/stripe-key"})
        data["services"]["backend"]["environment"]["NOTE"] = "AKIAABCDEFGHIJKLMNOP"

    found = messages("VR606", mutated("dev", COMPOSE, change))
    assert "secret 'stripe-key' is used but not declared in the profile" in found
    assert "AWS access key found in a generated file" in found
    from .support import context_of

    spare = overlay("extends: dev\nsecrets:\n  spare:\n    description: nobody mounts it\n", "spare")
    assert "secret 'spare' is declared but nothing uses it" in messages("VR606", context_of(spare))


# -- VR607 alerts -------------------------------------------------------------------------


def test_vr607_pass_root_route_catches_every_severity():
    def root_only(config):
        config["route"].pop("routes")

    assert problems("VR607", mutated("prod", "prometheus/alertmanager.yml", root_only)) == []


def test_vr607_fail_unscraped_exporter_raw_ratio_and_unrouted_severity():
    def drop_redis_job(config):
        config["scrape_configs"] = [job for job in config["scrape_configs"] if job["job_name"] != "redis"]

    found = messages("VR607", mutated("staging", "prometheus/prometheus.yml", drop_redis_job))
    assert any("RedisMemoryNearMax reads redis_memory_max_bytes from redis, which prometheus.yml does not scrape" in m for m in found)

    def only_critical(config):
        # The root route goes to a receiver with no integration: only critical is delivered.
        config["receivers"].append({"name": "null"})
        config["route"]["receiver"] = "null"
        config["route"]["routes"] = [dict(config["route"]["routes"][0], matchers=['severity="critical"'])]

    found = messages("VR607", mutated("staging", "prometheus/alertmanager.yml", only_critical))
    assert any("severity 'warning', which no Alertmanager route sends anywhere" in m for m in found)

    from .support import dump_yaml

    raw = dump_yaml({"groups": [{"name": "g", "rules": [{"alert": "Raw", "expr": "sum(container_memory_working_set_bytes) > 0.9", "for": "5m",
                                                          "labels": {"severity": "warning"}, "annotations": {"summary": "s", "description": "d", "runbook_url": "u"}}]}]})
    found = messages("VR607", context("staging", {"prometheus/rules.yml": raw}))
    assert "alert Raw compares with 0.9 without dividing by a limit or total" in found


# -- PASS cases that the golden profiles do not cover: services nobody hard-coded ------------


def test_vr602_pass_worker_and_cache_metrics_ports():
    ctx = context("open-stack")
    assert problems("VR602", ctx) == []
    scrape = {t.job: t.port for t in ctx.plan.scrape_targets}
    assert scrape["worker"] == 9100 and scrape["cache"] == 9121


def test_vr603_pass_cache_may_use_most_of_its_limit_when_it_does_not_persist():
    ctx = context("open-stack")
    assert problems("VR603", ctx) == []
    assert ctx.plan.services["cache"].memory.share == 1.0 and ctx.plan.services["redis"].memory.share == 0.75


def test_vr604_pass_blue_green_idle_colour_runs_the_next_release():
    assert problems("VR604", context("open-stack")) == []


def test_vr605_pass_open_stack_edges():
    assert problems("VR605", context("open-stack")) == []


def test_vr606_pass_new_secrets_are_declared_and_used():
    assert problems("VR606", context("open-stack")) == []
