"""None of the seed's defects (DESIGN.md §4) survives in the committed output."""

from __future__ import annotations

import re

import pytest
from ruamel.yaml import YAML

from .conftest import OUT

PROFILES = ["dev", "prod", "staging"]


def test_the_committed_tree_has_every_profile():
    assert sorted(p.name for p in OUT.iterdir() if p.is_dir()) == PROFILES
YAML_READER = YAML(typ="safe", pure=True)


def text(profile: str, path: str) -> str:
    return (OUT / profile / path).read_text()


def every_file(profile: str) -> str:
    return "\n".join(p.read_text() for p in sorted((OUT / profile).rglob("*")) if p.is_file())


@pytest.mark.parametrize("profile", PROFILES)
def test_no_seed_defect_in(profile):
    everything = every_file(profile)
    compose = YAML_READER.load(text(profile, "compose/docker-compose.yml"))
    # Obsolete for docker compose, but docker CLI 20.10 refuses a stack file without it.
    assert compose.get("version") == (None if profile == "dev" else "3.8")
    assert "NODE_ENV" not in compose["services"]["backend"].get("environment", {})  # Node setting on Python
    assert "--only=production" not in everything  # deprecated npm flag
    assert not re.search(r"^FROM node:1[0-8]\b", everything, re.M)  # Node 18 is end of life
    assert not re.search(r"^FROM \S+ as ", everything, re.M)  # lower-case AS
    assert "dbms.memory" not in everything and "dbms_memory" not in everything  # Neo4j 4.x names
    assert "--requirepass" not in everything  # password on a command line
    assert not re.search(r"^\s*docker stack rm\b", everything, re.M)  # an outage, not a rollback: never a command
    assert "container_restart_count" not in everything  # a metric that does not exist
    backend_health = " ".join(compose["services"]["backend"]["healthcheck"]["test"])
    assert "curl" not in backend_health and "curl" not in text(profile, "docker/backend/Dockerfile")
    redis_health = " ".join(compose["services"]["redis"]["healthcheck"]["test"])
    assert "--askpass ping < /run/secrets/" in redis_health  # the ping authenticates, password on stdin
    rules = text(profile, "prometheus/rules.yml")
    assert not re.search(r"container_cpu_usage_seconds_total(\{[^}]*\})?\s*>", rules)  # raw counter compared
    assert not re.search(r"container_memory_usage_bytes(\{[^}]*\})?\s*>", rules)  # bytes compared with a ratio
    maxmemory = int(re.search(r"^maxmemory (\d+)$", text(profile, "redis/redis.conf"), re.M).group(1))
    limit = compose["services"]["redis"]["deploy"]["resources"]["limits"]["memory"]
    limit_bytes = int(limit[:-1]) * {"g": 2**30, "m": 2**20, "k": 2**10}[limit[-1]]
    assert maxmemory <= 0.75 * limit_bytes  # room for fork/copy-on-write


@pytest.mark.parametrize("profile", [p for p in PROFILES if p != "dev"])
def test_swarm_stacks_are_hardened(profile):
    compose = YAML_READER.load(text(profile, "compose/docker-compose.yml"))
    assert compose["secrets"] and all(s == {"external": True} for s in compose["secrets"].values())
    for name, service in compose["services"].items():
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
        assert service["deploy"]["resources"]["limits"]["memory"], name
        assert service["deploy"]["update_config"]["failure_action"] == "rollback", name
        assert service["deploy"]["rollback_config"], name
        assert service["healthcheck"]["test"][0] == "CMD", name
