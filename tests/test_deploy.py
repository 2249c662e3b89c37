"""The deploy pipeline's pure parts, and the CLI's refusals before it touches a target."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import vitalyst_render as vr
from vitalyst_render.deploy import AuditLog, Release, ServiceState, plan_changes, stack_name
from vitalyst_render.deploy.swarm import STACK_FILE, external_secrets, health_tests, stack_files, stack_services


@pytest.fixture(scope="module")
def prod_files() -> dict[str, str]:
    return {path: data.decode() for path, data in vr.render(vr.load_profile("prod")).files.items()}


def state(name: str, image: str = "a:1@sha256:" + "1" * 64, replicas: int | None = 2, config: str = "sha256:c1") -> ServiceState:
    return ServiceState(name, (image,), replicas, config)


def test_the_plan_says_per_service_what_changes():
    desired = {"api": state("api", replicas=3), "web": state("web"), "db": state("db", config="sha256:c2"), "new": state("new")}
    current = {"api": state("api"), "web": state("web"), "db": state("db"), "old": state("old")}
    changes = {c.service: c for c in plan_changes(desired, current)}
    assert {name: c.action for name, c in changes.items()} == {"api": "update", "web": "unchanged", "db": "update", "new": "create", "old": "remove"}
    assert changes["api"].fields == ("replicas",)
    assert changes["api"].describe() == "update (replicas 2 -> 3)"
    assert changes["db"].fields == ("config",)
    assert list(changes) == sorted(changes)


def test_an_image_change_names_both_references():
    before, after = state("api"), state("api", image="a:2@sha256:" + "2" * 64)
    [change] = plan_changes({"api": after}, {"api": before})
    assert change.fields == ("image",)
    assert f"image {before.images[0]} -> {after.images[0]}" in change.describe()


def test_a_service_whose_config_is_unknown_counts_as_changed():
    [change] = plan_changes({"api": state("api")}, {"api": state("api", config="")})
    assert change.action == "update" and change.fields == ()
    assert "config digest of the running service unknown" in change.describe()


def test_the_swarm_desired_state_comes_from_the_stack_file(prod_files):
    services = stack_services(prod_files)
    assert set(services) == {"backend", "frontend", "neo4j", "redis", "redis-exporter"}
    assert services["backend"].replicas == 3
    assert services["backend"].images[0].startswith("ghcr.io/vitalyst/backend:1.0.0")
    # redis mounts redis.conf: its config digest moves when the config's hashed name does
    edited = dict(prod_files)
    edited[STACK_FILE] = edited[STACK_FILE].replace("name: vitalyst-redis-conf-", "name: vitalyst-redis-conf-x")
    assert stack_services(edited)["redis"].config != services["redis"].config
    assert stack_services(edited)["backend"].config == services["backend"].config


def test_a_release_keeps_the_stack_file_and_the_files_it_names(prod_files):
    assert sorted(stack_files(prod_files)) == [STACK_FILE, "redis/redis.conf"]
    assert "neo4j-auth" in external_secrets(prod_files)
    tests = health_tests(prod_files)
    assert tests["backend"][0] == "CMD" and "http://127.0.0.1:8000/health" in tests["backend"][-1]


def test_a_release_round_trips_through_its_record():
    release = Release(3, "prod", "swarm", "swarm vitalyst-prod at x", {"api": ["a@sha256:1"]}, "sha256:p", "me@host", "2026-01-01T00:00:00Z", "succeeded", files={"f": "x"})
    assert Release.decode(release.encode()) == release
    assert "files" not in release.summary()


def test_the_audit_log_appends_one_json_line_per_action(tmp_path):
    log = AuditLog(tmp_path / "logs" / "audit.jsonl", "swarm s at h", "prod", actor="ci@runner", clock=lambda: "2026-12-02T10:00:00Z")
    log.append("preflight", "ok", images=["a"])
    log.append("apply", "failed", revision=2)
    lines = [json.loads(line) for line in (tmp_path / "logs" / "audit.jsonl").read_text().splitlines()]
    assert lines == [
        {"when": "2026-12-02T10:00:00Z", "who": "ci@runner", "what": "preflight", "target": "swarm s at h", "profile": "prod", "result": "ok", "images": ["a"]},
        {"when": "2026-12-02T10:00:00Z", "who": "ci@runner", "what": "apply", "target": "swarm s at h", "profile": "prod", "result": "failed", "revision": 2},
    ]


def test_the_stack_is_named_after_project_and_profile():
    assert stack_name(vr.load_profile("prod")) == "vitalyst-prod"


def _render(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vitalyst_render.cli", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["deploy", "--profile", "dev", "--platform", "swarm"], "profile 'dev' renders no swarm stack (environment.compose_mode is 'local')"),
        (["deploy", "--profile", "dev", "--platform", "kubernetes"], "profile 'dev' renders no Kubernetes manifests"),
        (["deploy", "--profile", "nope", "--platform", "swarm"], "nope"),
        (["deploy", "--profile", "prod"], "give --platform swarm or --platform kubernetes"),
        (["deploy", "history", "--platform", "swarm"], "give exactly one of --profile NAME or --profile-file PATH"),
    ],
)
def test_bad_usage_exits_2_with_one_line(args, message, tmp_path):
    result = _render(*args, cwd=Path.cwd())
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_target_without_docker_is_refused_in_preflight_and_audited(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path), "VITALYST_DEPLOY_USER": "tester"}  # no docker CLI anywhere
    out = Path.cwd() / "out"
    result = _render("deploy", "--profile", "prod", "--platform", "swarm", "--out", str(out), "--format", "json", env=env, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[-1]["ok"] is False and events[-1]["failed_step"] == "preflight"
    assert "docker CLI 'docker' is not installed" in events[-1]["message"]
    [line] = [json.loads(line) for line in (tmp_path / "deploy-audit.jsonl").read_text().splitlines()]
    assert line["what"] == "preflight" and line["result"] == "failed" and line["who"].startswith("tester@")


def test_a_stale_render_is_refused_before_the_target_is_asked(tmp_path):
    out = tmp_path / "out"
    assert _render("--profile", "prod", "--out", str(out)).returncode == 0
    compose = out / "prod" / STACK_FILE
    compose.write_text(compose.read_text().replace("replicas: 3", "replicas: 4"))
    no_docker = {**os.environ, "PATH": str(tmp_path / "empty")}  # the target is never asked
    result = _render("deploy", "--profile", "prod", "--platform", "swarm", "--out", str(out), cwd=tmp_path, env=no_docker)
    assert result.returncode == 1
    assert f"{out}/prod differs from a fresh render: compose/docker-compose.yml (changed)" in result.stdout
    assert "nothing was changed" in result.stdout


def test_the_config_digest_leaves_image_and_replicas_to_their_own_fields(prod_files):
    services = stack_services(prod_files)
    scaled = {**prod_files, STACK_FILE: prod_files[STACK_FILE].replace("replicas: 3", "replicas: 4", 1)}
    after = stack_services(scaled)["backend"]
    [change] = plan_changes({"backend": after}, {"backend": services["backend"]})
    assert after.replicas == 4 and change.fields == ("replicas",)
