"""VR601–VR607 and VR610: checks across artefacts, beyond their examples (which state the exact
findings): each FAIL case here mutates one artefact of a valid render (or the profile)
and asserts where the finding points, in the artefact and in the profile, its severity,
or what the plan decided. The open-stack profile (a worker sharing the backend's image,
an nginx, a second Redis) must check clean: the invariants hold for services nobody
hard-coded."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .support import context, first_container, kind, mutated, overlay, problems, rendered

CROSS = [f"VR60{n}" for n in range(1, 8)] + ["VR610"]
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




def test_vr601_pass_neo4j_custom_health_path_renders_without_false_findings():
    # The probe used to be read back out of the bash command line with a regex, which
    # lost any path it did not expect and reported two false errors.
    result = overlay("extends: prod\nservices:\n  neo4j:\n    health:\n      path: /db/neo4j/cluster/available\n", "custom-health")
    from .support import context_of

    assert problems("VR601", context_of(result)) == []
    assert "/db/neo4j/cluster/available" in result.files["compose/docker-compose.yml"].decode()






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




# -- VR603 memory -------------------------------------------------------------------------


def test_vr603_fail_seed_maxmemory():
    text = rendered("prod").files["redis/redis.conf"].decode().replace("maxmemory 751619276", "maxmemory 1gb")
    (problem,) = problems("VR603", context("prod", {"redis/redis.conf": text}))
    assert problem.message == ("service redis: maxmemory while it persists (a save forks and copies pages) is 1.00 GiB, "
                               "more than 75% of its 1Gi memory limit")
    assert problem.location.file == "out/prod/redis/redis.conf" and problem.location.line > 0
    assert problem.related[0].file == "profiles/base.yaml"






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


def test_vr606_unused_secret_is_a_warning_at_the_profile():
    from vitalyst_render.checks import Severity

    from .support import context_of

    spare = overlay("extends: dev\nsecrets:\n  spare:\n    description: nobody mounts it\n", "spare")
    (problem,) = problems("VR606", context_of(spare))
    assert problem.message == "secret 'spare' is declared but nothing uses it" and problem.severity is Severity.WARNING
    assert problem.location.file.endswith("spare.yaml") and problem.location.line > 0
    assert problem.related[0].file == "out/spare/compose/docker-compose.yml"


def _leaks_line_by_line(text):
    """VR606's scan of a generated file as the check once ran it: each line on its own."""
    import re

    from vitalyst_render.checks.cross_secrets import KNOWN_FORMATS, looks_secret
    from vitalyst_render.credentials import credential_value

    assignment = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)\s*[:=]\s*[\"']?([^\s\"',}]{8,})")
    url = re.compile(r"[a-z][a-z0-9+.-]*://(?:[^/\s:@]*:([^/\s@]+)|([^/\s:@]+))@", re.IGNORECASE)
    found = []
    for number, line in enumerate(text.split("\n"), start=1):
        found += [(number, f"{label} found in a generated file") for label, pattern in KNOWN_FORMATS.items() if pattern.search(line)]
        found += [(number, "a URL with a password found in a generated file" if password else
                   "a URL with a token as its user name found in a generated file")
                  for password, user in url.findall(line) if password or credential_value(user)]
        found += [(number, f"{key} is assigned a {credential_value(value)} value") for key, value in assignment.findall(line)
                  if looks_secret(key) and credential_value(value)]
    return found


_PIECES = ["\n", "\r\n", " ", "\t", "\x0b", ":", "=", '"', "'", ",", "}", "/", "x", "9", "SECRET_KEY", "API_TOKEN",
           "AKIAABCDEFGHIJKLMNOP", "9fK2xQ7mZp4vL8wR3tY6", "ghp_" + "a1" * 18, "-----BEGIN RSA PRIVATE KEY-----", "password",
           "\u0130", "x-xoxb-AKIAABCDEFGHIJKLMNOPQR", "Hunter2xyz!", "redis://app:", "https://", "@", "db-pass",
           "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3", "Authorization: Bearer "]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40).map("".join))
def test_vr606_scans_a_whole_file_as_it_would_each_line(text):
    from vitalyst_render.checks.cross_secrets import _leaks

    assert _leaks(text) == _leaks_line_by_line(text)


def test_vr606_finds_a_leak_on_its_line_of_a_large_file():
    from vitalyst_render.checks.cross_secrets import _leaks

    text = "a: 1\n" * 5000 + "SESSION_SECRET: 9fK2xQ7mZp4vL8wR3tY6\nSESSION_SECRET:\n  9fK2xQ7mZp4vL8wR3tY6\n"
    # The key and its value on one line are a leak; a value on the next line is not the key's.
    assert _leaks(text) == [(5001, "SESSION_SECRET is assigned a high-entropy value")]


# -- VR610 *_FILE variables name mounted secrets ------------------------------------------


def test_vr610_fail_compose_points_at_the_variable_and_the_profile():
    def unmount(compose):
        del compose["services"]["backend"]["secrets"]

    ctx = mutated("staging", COMPOSE, unmount)
    assert sorted(p.message for p in problems("VR610", ctx)) == [
        "service backend: NEO4J_AUTH_FILE names /run/secrets/neo4j-auth, but the service mounts no secret there",
        "service backend: REDIS_PASSWORD_FILE names /run/secrets/redis-app-password, but the service mounts no secret there",
    ]
    (problem,) = [p for p in problems("VR610", ctx) if "NEO4J" in p.message]
    compose = ctx.artefacts[COMPOSE].text.split("\n")
    assert problem.location.file == "out/staging/compose/docker-compose.yml"
    assert "NEO4J_AUTH_FILE" in compose[problem.location.line - 1]
    assert problem.related[0].file == "profiles/base.yaml" and problem.related[0].line > 0


def test_vr610_fail_kubernetes_volume_that_is_no_secret():
    def swap(documents):
        pod = kind(documents, "StatefulSet")["spec"]["template"]["spec"]
        volume = next(v for v in pod["volumes"] if v["name"] == "secrets")
        volume.pop("projected")
        volume["emptyDir"] = {}

    (problem,) = problems("VR610", mutated("staging", "kubernetes/neo4j.yaml", swap))
    assert problem.message == (
        "StatefulSet neo4j container neo4j: NEO4J_AUTH_FILE names /run/secrets/neo4j-auth, but no secret is mounted there"
    )
    assert problem.location.file == "out/staging/kubernetes/neo4j.yaml" and problem.location.line > 0


def test_vr610_compose_short_syntax_and_list_environment_count():
    def short(compose):
        service = compose["services"]["neo4j"]
        service["secrets"] = ["neo4j-auth"]
        service["environment"] = [f"{k}={v}" for k, v in service["environment"].items()] + ["X_FILE=/run/secrets/nope"]

    (problem,) = problems("VR610", mutated("staging", COMPOSE, short))
    assert problem.message == "service neo4j: X_FILE names /run/secrets/nope, but the service mounts no secret there"


# -- VR607 alerts -------------------------------------------------------------------------


def test_vr607_pass_root_route_catches_every_severity():
    def root_only(config):
        config["route"].pop("routes")

    assert problems("VR607", mutated("prod", "prometheus/alertmanager.yml", root_only)) == []




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







# -- VR611 egress parity ------------------------------------------------------------------


def _compose_reaches_out(data: dict, name: str, swarm: bool) -> bool:
    service = data["services"][name]
    networks = data.get("networks") or {}
    on_open = any(not (networks.get(n) or {}).get("internal") for n in service.get("networks") or ["default"])
    return on_open or (swarm and bool(service.get("ports")))


def _kube_outside_ports(profile: str, name: str) -> set:
    policies = [d for d in rendered(profile).artefacts["kubernetes/networkpolicy.yaml"].data if d]
    return {
        port["port"]
        for policy in policies
        if policy["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name") == name
        for rule in policy["spec"].get("egress") or []
        if any("ipBlock" in peer for peer in rule.get("to") or [])
        for port in rule["ports"]
    }


@pytest.mark.parametrize("profile", ["dev", "staging", "prod"])
def test_egress_is_one_decision_both_platforms_follow(profile):
    result = rendered(profile)
    compose = result.artefacts[COMPOSE].data
    swarm = result.plan.profile.environment.compose_mode == "swarm"
    for name, service in result.plan.services.items():
        declared = set(service.egress_ports)
        assert _compose_reaches_out(compose, name, swarm) == bool(declared), (profile, name)
        if result.plan.profile.on_kubernetes:
            assert _kube_outside_ports(profile, name) == declared, (profile, name)


@pytest.mark.parametrize("profile", ["dev", "staging", "prod", "prod-as-shipped"])
def test_vr611_holds_for_the_committed_profiles(profile):
    assert problems("VR611", context(profile)) == []


def test_vr611_open_stack_warns_only_of_the_route_swarm_gives_its_published_docs():
    (problem,) = problems("VR611", context("open-stack"))
    assert problem.severity.value == "warning"
    assert problem.message.startswith("service docs: swarm lets it reach outside (it is published")
    assert problem.location.file == "out/open-stack/compose/docker-compose.yml"
    ctx = context("open-stack")
    assert ctx.artefacts[COMPOSE].text.split("\n")[problem.location.line - 1].strip() == "- target: 8080"  # its published port
    assert problem.related[0].file.endswith("open-stack.yaml") and "egress_ports" in (problem.hint or "")


def test_vr611_names_the_platform_that_differs_at_its_rule():
    def open_redis(docs):
        docs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                     "metadata": {"name": "redis-out", "namespace": "vitalyst-staging"},
                     "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "redis"}}, "policyTypes": ["Egress"],
                              "egress": [{"to": [{"ipBlock": {"cidr": "10.1.0.0/16"}}], "ports": [{"port": 22}]},
                                         {"ports": [{"port": 25}]}]}})

    (problem,) = problems("VR611", mutated("staging", "kubernetes/networkpolicy.yaml", open_redis))
    # A private range is inside the cluster; a rule without `to` reaches everything.
    assert problem.message == ("service redis: Kubernetes lets it reach outside the cluster on port 25 (NetworkPolicy redis-out "
                               "egress[1]), but the profile declares no egress_ports")
    assert problem.severity is None and problem.location.file == "out/staging/kubernetes/networkpolicy.yaml"

    def backend_everywhere(docs):
        kind(docs, "NetworkPolicy", "backend-egress")["spec"]["egress"][2]["ports"].append({"protocol": "TCP", "port": 22})

    (problem,) = problems("VR611", mutated("staging", "kubernetes/networkpolicy.yaml", backend_everywhere))
    assert problem.message == ("service backend: Kubernetes lets it reach outside the cluster on ports 22, 443 (NetworkPolicy "
                               "backend-egress egress[2]), but the profile declares egress_ports [443]")
    assert problem.related[0].file == "profiles/base.yaml"


def test_the_frontend_reaches_auth0_on_443_only():
    assert rendered("staging").plan.services["frontend"].egress_ports == (443,)
    assert _kube_outside_ports("staging", "frontend") == {443}

