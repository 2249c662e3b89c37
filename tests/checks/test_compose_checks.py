"""VR201–VR208: compose validation and hardening checks. Their PASS and FAIL examples
live with the checks; these tests assert what an example cannot (lines, severities,
odd YAML), plus the upstream Compose Specification as an oracle for every rendered
compose file."""

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


def test_vr201_fail_reports_every_error_at_its_line():
    def change(data):
        data["version"] = "3"
        del data["services"]["backend"]["healthcheck"]
        data["services"]["redis"]["privileged"] = True

    found = problems("VR201", mutated("prod", COMPOSE, change))
    messages = " | ".join(p.message for p in found)
    assert "version: '3.8' was expected" in messages
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


def test_vr202_default_user_is_a_warning_at_the_service():
    found = problems("VR202", mutated("prod", COMPOSE, lambda d: d["services"]["backend"].pop("user")))
    (problem,) = [p for p in found if "backend" in p.message]
    assert problem.severity is not None and problem.severity.value == "warning"
    assert problem.hint == "set image_user for upstream images"
    assert problem.location.file.endswith(COMPOSE) and problem.location.line > 0


def test_vr203_vr207_read_healthcheck_and_command_words_that_are_not_strings():
    def change(data):
        data["services"]["redis"]["healthcheck"]["test"] = ["CMD", "redis-cli", "-p", 6379, "-a", "hunter2", "ping"]
        data["services"]["redis"]["command"] = ["redis-server", "--port", 6379]

    ctx = mutated("dev", COMPOSE, change)
    assert problems("VR203", ctx) == []
    assert [p.message for p in problems("VR207", ctx)] == ["service redis passes a password in its healthcheck"]


def test_swarm_redis_config_is_named_by_content():
    from .support import rendered

    config = rendered("prod").artefacts[COMPOSE].data["configs"]["redis-conf"]
    import hashlib

    digest = hashlib.sha256(rendered("prod").files["redis/redis.conf"]).hexdigest()[:12]
    assert config["name"] == f"vitalyst-redis-conf-{digest}"


# -- VR201 asks jsonschema-rs first: its verdicts are jsonschema's ----------------------------


def _compose_corpus():
    """Compose documents the schema passes and fails: every rendered one, each VR201
    example's edit, and one change at a time to the prod file."""
    import copy

    from vitalyst_render.checks import registry
    from vitalyst_render.yamlsource import load_yaml

    from .support import rendered

    documents = [rendered(name).artefacts[COMPOSE].data for name in ("dev", "staging", "prod", "open-stack")]
    for example in registry()["VR201"].examples:
        text = rendered(example.profile).files[COMPOSE].decode()
        for edit in getattr(example, "edits", ()):
            text = text.replace(edit.old, edit.new)
        documents.append(load_yaml(text, COMPOSE, fast=True)[0])
    prod = rendered("prod").artefacts[COMPOSE].data
    oddities = [None, True, 0, -1, 1.5, float("inf"), "", "x", "10 seconds", "10s\n", [], {}, ["x"], {"x": 1}, 2**70]

    def paths(node, path=()):
        yield path
        children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in children:
            yield from paths(child, (*path, key))

    for path in list(paths(prod))[1::7]:
        for oddity in oddities[len(path) % 3::3]:
            document = copy.deepcopy(prod)
            parent = document
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = copy.deepcopy(oddity)
            documents.append(document)
    return documents


def test_jsonschema_rs_and_jsonschema_agree_on_every_compose_document():
    from vitalyst_render.schemas import fast_validator, validator

    corpus = _compose_corpus()
    verdicts = []
    for document in corpus:
        try:
            fast = fast_validator("compose.schema.json").is_valid(document)
        except (ValueError, TypeError, OverflowError):
            fast = None  # it cannot read the document: is_valid asks jsonschema
        verdicts.append((fast, validator("compose.schema.json").is_valid(document)))
    assert sum(1 for _, slow in verdicts if not slow) > 100 and sum(1 for _, slow in verdicts if slow) >= 4
    # Valid to jsonschema-rs is valid to jsonschema: VR201 trusts that verdict and reports nothing.
    assert [index for index, (fast, slow) in enumerate(verdicts) if fast and not slow] == []
