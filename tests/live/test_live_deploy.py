"""``render deploy`` on the testbed, through the real CLI, as a second stack beside the live one.

The tests run in order and share one stack, as releases do: a dry run, a first release, a
release refused in preflight, a broken release rolled back automatically, a good release,
and ``render deploy rollback`` back to the first. The frontend is not published (the live
stack holds the ingress port); everything else is the live profile.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import vitalyst_render as vr
from vitalyst_render.testbed import probes

from .conftest import Live, live_profile

pytestmark = pytest.mark.live

STACK = "vitalyst-deployed"
ACTOR = "live-test@ci"


@dataclass
class Deployed:
    live: Live
    home: Path

    def profile(self, folder: str, changes: dict[str, Any] | None = None, backend: Any = None) -> Path:
        """Render a variant of the deployed profile into its own folder (the profile is always
        named ``deployed``, so every variant is the same stack) and return the profile file."""
        data = live_profile(self.live.standins, {**self.live.apps, **({"backend": backend} if backend else {})})
        services = data["services"]
        assert isinstance(services, dict)
        services["frontend"]["expose"] = None
        for key, value in (changes or {}).items():
            data[key] = _merge(data.get(key), value)
        work = self.home / folder
        work.mkdir()
        path = work / "deployed.yaml"
        path.write_text(json.dumps(data, indent=2))
        result = _cli(self.home, "--profile-file", str(path), "--out", str(work / "out"))
        assert result.returncode == 0, result.stdout + result.stderr
        return path

    def deploy(self, path: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return _cli(self.home, "deploy", "--profile-file", str(path), "--platform", "swarm", "--out", str(path.parent / "out"), *args, env=self.live.testbed.env())

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        return _cli(self.home, "deploy", *args, env=self.live.testbed.env())

    def history(self, path: Path) -> list[dict[str, Any]]:
        result = self.command("history", "--profile-file", str(path), "--platform", "swarm", "--format", "json")
        assert result.returncode == 0, result.stderr
        return list(json.loads(result.stdout))

    def specs(self) -> dict[str, tuple[int, str, int]]:
        """Each service's (spec version, image, replicas): what any change would move."""
        names = self.live.testbed.docker("service", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={STACK}").stdout.split()
        if not names:
            return {}
        return {
            data["Spec"]["Name"]: (
                data["Version"]["Index"],
                data["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"],
                data["Spec"]["Mode"].get("Replicated", {}).get("Replicas", 0),
            )
            for data in json.loads(self.live.testbed.docker("service", "inspect", *names).stdout)
        }

    def audit(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in (self.home / "deploy-audit.jsonl").read_text().splitlines()]


def _merge(base: Any, change: Any) -> Any:
    if isinstance(base, dict) and isinstance(change, dict):
        return {**base, **{k: _merge(base.get(k), v) for k, v in change.items()}}
    return change


def _cli(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**(env or os.environ), "VITALYST_DEPLOY_USER": "live-test"}
    return subprocess.run([sys.executable, "-m", "vitalyst_render.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=900, env=environment)


def _events(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def deployed(live, tmp_path_factory):
    state = Deployed(live, tmp_path_factory.mktemp("deploy"))
    yield state
    live.testbed.docker("stack", "rm", STACK, check=False)
    probes.wait_gone(live.testbed, STACK, timeout=90)


@pytest.fixture(scope="module")
def first(deployed):
    return deployed.profile("first")


def test_a_dry_run_prints_the_plan_and_changes_nothing(deployed, first):
    result = deployed.deploy(first, "--dry-run", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    events = _events(result)
    planned = {e["service"]: e["data"]["action"] for e in events if e["step"] == "plan"}
    assert planned == {name: "create" for name in ("backend", "frontend", "neo4j", "redis", "redis-exporter")}
    assert events[-1] == {**events[-1], "step": "result", "ok": True, "revision": None}
    assert deployed.specs() == {}
    assert deployed.history(first) == []


def test_a_good_release_converges_verifies_and_is_recorded(deployed, first):
    result = deployed.deploy(first)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "release 1 deployed and verified" in result.stdout
    for service in ("backend", "frontend", "neo4j", "redis", "redis-exporter"):
        assert f"verify    ok       {service}: health check passes" in result.stdout
    plan = vr.render(vr.load_profile(first)).plan
    running = probes.containers(deployed.live.testbed, STACK, plan)
    assert {name: len(found) for name, found in running.items()} == {name: w.replicas for name, w in probes.workloads(plan).items()}
    assert all(c.health == "healthy" for found in running.values() for c in found)
    [release] = deployed.history(first)
    assert release["revision"] == 1 and release["result"] == "succeeded" and release["rollback_of"] is None
    assert release["profile_digest"] == vr.load_profile(first).digest
    assert release["images"]["backend"] == [f"{deployed.live.apps['backend'].reference}"]
    assert release["who"].startswith("live-test@")


def test_a_missing_secret_stops_in_preflight_with_nothing_changed(deployed):
    path = deployed.profile(
        "missing-secret",
        {
            "secrets": {"jwt-signing-key": {"description": "Signs session tokens."}},
            "services": {"backend": {"secrets": ["neo4j-auth", "redis-app-password", "jwt-signing-key"]}},
        },
    )
    before = deployed.specs()
    result = deployed.deploy(path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "secrets missing on the target: jwt-signing-key" in result.stdout
    assert "nothing was changed" in result.stdout
    assert deployed.specs() == before
    assert [r["revision"] for r in deployed.history(path)] == [1]


def test_a_broken_release_is_rolled_back_without_a_failed_request(deployed, broken_backend):
    path = deployed.profile("broken", backend=broken_backend)
    plan = vr.render(vr.load_profile(path)).plan
    frontend = probes.containers(deployed.live.testbed, STACK, plan)["frontend"][0]
    # By tasks.backend: no IPVS here, so VIPs do not route (see docs/testing.md).
    with probes.Poller(deployed.live.testbed, frontend, "http://tasks.backend:8000/health") as poller:
        result = deployed.deploy(path, "--format", "json", "--timeout", "300")
    assert result.returncode == 1, result.stdout + result.stderr
    outcome = _events(result)[-1]
    assert outcome["ok"] is False and outcome["failed_step"] == "wait" and outcome["rolled_back"] == ["backend"], outcome
    # swarm's own rollback is seen as the update's failure, not waited out to the timeout
    assert outcome["failures"]["backend"].startswith("update rollback_completed"), outcome["failures"]
    assert poller.failures == [], poller.failures[:5]
    assert poller.successes >= 20
    images = [deployed.live.testbed.docker("inspect", "--format", "{{.Config.Image}}", c.id).stdout for c in probes.containers(deployed.live.testbed, STACK, plan)["backend"]]
    assert images and all(deployed.live.apps["backend"].digest in image for image in images), images
    history = deployed.history(path)
    assert [(r["revision"], r["result"]) for r in history] == [(1, "succeeded"), (2, "rolled-back")]
    assert broken_backend.digest in history[1]["images"]["backend"][0]


def test_render_deploy_rollback_restores_the_previous_revision(deployed, first):
    scaled = deployed.profile("scaled", {"services": {"frontend": {"replicas": 2, "autoscaling": {"min_replicas": 2, "max_replicas": 3}}}})
    result = deployed.deploy(scaled)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "frontend: update (replicas 1 -> 2)" in result.stdout
    assert deployed.specs()[f"{STACK}_frontend"][2] == 2

    refused = deployed.command("rollback", "--profile-file", str(scaled), "--platform", "swarm", "--to", "2")
    assert refused.returncode == 1 and "release 2 rolled-back" in refused.stdout, refused.stdout

    result = deployed.command("rollback", "--profile-file", str(scaled), "--platform", "swarm")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "rolling back to release 1" in result.stdout
    assert deployed.specs()[f"{STACK}_frontend"][2] == 1
    history = deployed.history(scaled)
    assert [(r["revision"], r["result"], r["rollback_of"]) for r in history] == [
        (1, "succeeded", None), (2, "rolled-back", None), (3, "succeeded", None), (4, "succeeded", 1),
    ]
    assert history[3]["images"] == history[0]["images"]


def test_the_audit_log_holds_every_action_and_no_secret(deployed):
    lines = deployed.audit()
    assert all({"when", "who", "what", "target", "result"} <= line.keys() for line in lines)
    assert all(line["who"].startswith("live-test@") and line["target"].startswith(f"swarm {STACK} at unix://") for line in lines)
    actions = [(line["what"], line["result"]) for line in lines]
    assert ("plan", "dry-run") in actions
    assert ("preflight", "failed") in actions  # the missing secret
    assert ("rollback", "ok") in actions and ("record", "rolled-back") in actions
    assert [r for w, r in actions if w == "record"] == ["succeeded", "rolled-back", "succeeded", "succeeded"]
    text = (deployed.home / "deploy-audit.jsonl").read_text()
    for value in [*deployed.live.secret_values.values(), *deployed.live.passwords.values()]:
        assert value not in text
