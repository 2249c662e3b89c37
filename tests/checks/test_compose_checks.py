"""VR201–VR208: compose validation and hardening checks, PASS and FAIL each, plus the
upstream Compose Specification as an oracle for every rendered compose file."""

from __future__ import annotations

import json

import pytest

from ..conftest import OUT, SHARED
from .support import context, mutated, problems

COMPOSE = "compose/docker-compose.yml"
COMPOSE_CHECKS = ["VR201", "VR202", "VR203", "VR204", "VR205", "VR206", "VR207", "VR208"]


@pytest.mark.parametrize("check_id", COMPOSE_CHECKS)
@pytest.mark.parametrize("profile", ["dev", "staging", "prod"])
def test_committed_compose_files_pass(check_id, profile):
    found = [p for p in problems(check_id, context(profile)) if p.severity is None or p.severity.value != "info"]
    assert found == []


def test_upstream_compose_spec_accepts_every_rendered_file():
    spec = SHARED / "oracles" / "compose-spec.json"
    if not spec.is_file():
        pytest.skip(f"upstream Compose schema not found at {spec} (shared/oracles is absent)")
    import jsonschema
    from ruamel.yaml import YAML

    validator = jsonschema.Draft7Validator(json.loads(spec.read_text()))
    paths = sorted(OUT.glob("*/compose/docker-compose.yml"))
    assert len(paths) == 3  # dev, staging, prod: an empty out/ must not pass by checking nothing
    for path in paths:
        document = YAML(typ="safe", pure=True).load(path.read_text())
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
        assert errors == [], path


def test_vr201_pass_strict_schema():
    assert problems("VR201", context("prod")) == []


def test_vr201_fail_reports_every_error_at_its_line():
    def change(data):
        data["version"] = "3.8"
        del data["services"]["backend"]["healthcheck"]
        data["services"]["redis"]["privileged"] = True

    found = problems("VR201", mutated("prod", COMPOSE, change))
    messages = " | ".join(p.message for p in found)
    assert "'version' was unexpected" in messages
    assert "'healthcheck' is a required property" in messages
    assert "'privileged' was unexpected" in messages
    assert all(p.location.line > 0 for p in found)


def test_vr202_pass_and_info_for_documented_writable_root():
    found = problems("VR202", context("prod"))
    assert [(p.severity.value, "neo4j" in p.message) for p in found] == [("info", True)]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.update(cap_drop=["NET_RAW"]), "does not drop ALL"),
        (lambda s: s.update(security_opt=[]), "privilege escalation"),
        (lambda s: s.update(read_only=False), "writable root filesystem"),
        (lambda s: s.pop("user"), "default user"),
        (lambda s: s.update(user="0:0"), "runs as root"),
        (lambda s: s["logging"].update(options={}), "rotate its logs"),
        (lambda s: s["deploy"]["resources"]["limits"].pop("memory"), "no memory limit"),
    ],
)
def test_vr202_fail(change, message):
    found = problems("VR202", mutated("prod", COMPOSE, lambda d: change(d["services"]["backend"])))
    assert any(message in p.message and "backend" in p.message for p in found), found


def test_vr203_pass():
    assert problems("VR203", context("dev")) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.update(healthcheck={"disable": True}), "no healthcheck"),
        (lambda s: s["healthcheck"].update(test=["NONE"]), "does not run a command"),
        (lambda s: s["healthcheck"].update(test=["CMD", "redis-cli", "ping"]), "without authenticating"),
    ],
)
def test_vr203_fail(change, message):
    (problem,) = problems("VR203", mutated("dev", COMPOSE, lambda d: change(d["services"]["redis"])))
    assert message in problem.message


def test_vr204_pass():
    assert problems("VR204", context("staging")) == []


def test_vr204_fail_unresolved_names():
    def change(data):
        backend = data["services"]["backend"]
        backend["networks"].append("public")
        backend["secrets"].append({"source": "db-password", "target": "/run/secrets/db-password"})
        data["services"]["redis"]["volumes"] = ["cache:/data"]
        data["services"]["frontend"]["depends_on"] = {"api": {"condition": "service_healthy"}}

    found = sorted(p.message for p in problems("VR204", mutated("dev", COMPOSE, change)))
    assert found == [
        "service backend joins undeclared network 'public'",
        "service backend uses undeclared secret 'db-password'",
        "service frontend depends on unknown service 'api'",
        "service redis mounts undeclared volume 'cache'",
    ]


def test_vr205_pass():
    assert problems("VR205", context("dev")) == [] and problems("VR205", context("prod")) == []


def test_vr205_fail_dev_port_on_all_interfaces_and_published_data_store():
    dev = problems("VR205", mutated("dev", COMPOSE, lambda d: d["services"]["backend"].update(ports=["8000:8000"])))
    assert ["beyond 127.0.0.1" in p.message for p in dev] == [True]
    prod = problems("VR205", mutated("prod", COMPOSE, lambda d: d["services"]["backend"].update(
        ports=[{"target": 8000, "published": 8000, "protocol": "tcp", "mode": "ingress"}])))
    assert ["only exposed services may be" in p.message for p in prod] == [True]


def test_vr206_pass():
    assert problems("VR206", context("prod")) == []


def test_vr206_fail_seed_update_config():
    def change(data):
        deploy = data["services"]["backend"]["deploy"]
        deploy["update_config"] = {"parallelism": 1, "delay": "10s"}
        del deploy["rollback_config"]
        data["services"]["neo4j"]["deploy"]["update_config"]["order"] = "start-first"

    found = sorted(p.message for p in problems("VR206", mutated("prod", COMPOSE, change)))
    assert "service backend does not roll back a failed update" in found
    assert "service backend has no rollback_config" in found
    assert any("backend updates stop-first (default); expected start-first" in m for m in found)
    assert any("neo4j updates start-first; expected stop-first" in m for m in found)


def test_vr206_fail_local_without_restart():
    (problem,) = problems("VR206", mutated("dev", COMPOSE, lambda d: d["services"]["frontend"].pop("restart")))
    assert "not restarted" in problem.message


def test_vr207_pass():
    assert problems("VR207", context("prod")) == []


def test_vr207_fail_seed_redis_and_literal_env():
    def change(data):
        data["services"]["redis"]["command"] = ["redis-server", "--requirepass", "hunter2"]
        data["services"]["backend"]["environment"]["REDIS_PASSWORD"] = "hunter2"
        data["secrets"]["neo4j-auth"] = {"file": "./neo4j.txt"}

    found = sorted(p.message for p in problems("VR207", mutated("prod", COMPOSE, change)))
    assert found == [
        "secret neo4j-auth is read from a file in a swarm stack",
        "service backend sets REDIS_PASSWORD as a value",
        "service redis passes a password on its command line",
    ]


def test_vr208_pass():
    assert problems("VR208", context("prod")) == []


def test_vr208_fail_open_data_network_and_plain_overlay():
    def change(data):
        data["networks"]["backend-to-redis"]["internal"] = False
        data["networks"]["backend-edge"].pop("driver_opts")

    found = sorted(p.message for p in problems("VR208", mutated("prod", COMPOSE, change)))
    assert found == [
        "data store redis joins non-internal network 'backend-to-redis'",
        "overlay network backend-edge is not encrypted",
    ]


def test_vr202_fail_capability_added_back():
    found = problems("VR202", mutated("prod", COMPOSE, lambda d: d["services"]["redis"].update(cap_add=["SETUID"])))
    assert any("adds capabilities" in p.message for p in found)


def test_vr203_fail_user_without_password():
    def change(data):
        data["services"]["redis"]["healthcheck"]["test"] = ["CMD", "redis-cli", "--user", "healthcheck", "ping"]

    (problem,) = problems("VR203", mutated("dev", COMPOSE, change))
    assert "without authenticating" in problem.message


def test_vr204_long_syntax_volumes():
    ok = mutated("dev", COMPOSE, lambda d: d["services"]["redis"].update(volumes=[{"type": "volume", "source": "redis-data", "target": "/data"}]))
    assert problems("VR204", ok) == []
    bad = mutated("dev", COMPOSE, lambda d: d["services"]["redis"].update(volumes=[{"type": "volume", "source": "cache", "target": "/data"}]))
    assert [p.message for p in problems("VR204", bad)] == ["service redis mounts undeclared volume 'cache'"]


def test_vr205_fail_port_on_internal_only_service():
    found = problems("VR205", mutated("dev", COMPOSE, lambda d: d["services"]["neo4j"].update(ports=["127.0.0.1:7474:7474/tcp"])))
    assert [("joins only internal networks" in p.message) for p in found] == [True]


def test_vr207_fail_credentials_in_values_and_no_false_port_flag():
    def change(data):
        data["services"]["neo4j"]["environment"]["NEO4J_AUTH"] = "neo4j/hunter2"
        data["services"]["backend"]["environment"]["REDIS_URL"] = "redis://app:hunter2@redis:6379/0"
        data["services"]["redis"]["command"] = ["redis-cli", "-p", "6379"]

    found = sorted(p.message for p in problems("VR207", mutated("prod", COMPOSE, change)))
    assert found == ["service backend sets REDIS_URL to a URL with a password", "service neo4j sets NEO4J_AUTH as a value"]


def test_swarm_redis_config_is_named_by_content():
    from .support import rendered

    config = rendered("prod").artefacts[COMPOSE].data["configs"]["redis-conf"]
    import hashlib

    digest = hashlib.sha256(rendered("prod").files["redis/redis.conf"]).hexdigest()[:12]
    assert config["name"] == f"vitalyst-redis-conf-{digest}"
