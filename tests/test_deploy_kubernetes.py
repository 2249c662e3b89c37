"""``render deploy --platform kubernetes``: the plan builder as pure code, and the executor
through the real CLI against a recording kubectl double (tests/kubectl_double.py).

No Kubernetes API server can run here, so these tests prove which kubectl calls the
deploy makes, in which order, and what it refuses; not how a real cluster answers.
The images live in the fake registry of tests/fake_registry.py and are pinned with
``render pin``, as a user's would be.

The tests run in order over one namespace, as releases do: a dry run, a first release,
a missing secret, an idle-colour release, a blue-green flip, a broken idle release, a
flip whose health checks fail, and ``render deploy rollback``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import vitalyst_render as vr
from vitalyst_render.deploy.kubernetes import desired_workloads, manifests, probes, referenced_secrets

from .fake_registry import FakeRegistry

HERE = Path(__file__).parent
SECRETS = ["neo4j-auth", "redis-acl", "redis-app-password", "redis-backup-password", "redis-health-password", "redis-metrics-password",
           "alertmanager-slack-url", "vitalyst-tls"]
TAGS = {
    "vitalyst/backend": ["1.0.0", "1.1.0", "1.2.0"], "vitalyst/frontend": ["1.0.0", "1.1.0", "1.2.0"],
    "library/neo4j": ["5.26.0-community"], "library/redis": ["7.0.15-bookworm"], "oliver006/redis_exporter": ["v1.62.0-alpine"],
    "bitnami/kubectl": ["1.31.4"], "library/python": ["3.12-slim-bookworm"], "library/node": ["22-bookworm-slim"],
}


@pytest.fixture(scope="module")
def prod_files() -> dict[str, str]:
    return {path: data.decode() for path, data in vr.render(vr.load_profile("prod")).files.items()}


# -- the plan builder, pure ---------------------------------------------------------------


def test_the_desired_state_is_every_workload_of_the_manifests(prod_files):
    workloads = desired_workloads(prod_files)
    assert set(workloads) == {"backend-blue", "backend-green", "frontend-blue", "frontend-green", "neo4j", "redis"}
    assert workloads["backend-blue"].replicas is None and workloads["backend-blue"].scaling == "autoscaled"
    assert workloads["neo4j"].replicas == 1
    assert workloads["redis"].images == ("redis:7.0.15-bookworm", "oliver006/redis_exporter:v1.62.0-alpine")
    edited = {**prod_files, "kubernetes/redis.yaml": prod_files["kubernetes/redis.yaml"].replace("maxmemory", "maxmemory ", 1)}
    assert desired_workloads(edited)["redis"].config == workloads["redis"].config  # a comment is not the object
    bumped = {**prod_files, "kubernetes/redis.yaml": prod_files["kubernetes/redis.yaml"].replace("checksum/", "checksum/x", 1)}
    assert desired_workloads(bumped)["redis"].config != workloads["redis"].config


def test_every_secret_the_manifests_name_is_found(prod_files):
    # Pods mount their secrets as projected sources (no secret volumes left): the preflight still sees each.
    assert not any("secretName:" in text for path, text in prod_files.items()
                   if path.startswith("kubernetes/") and path != "kubernetes/ingress.yaml")  # its TLS Secret is no volume
    assert set(referenced_secrets(prod_files)) == set(SECRETS) - {"alertmanager-slack-url"}


def test_each_container_carries_its_health_check_as_an_exec_vector(prod_files):
    by_name = {m.name: m for m in manifests(prod_files) if m.kind in ("Deployment", "StatefulSet")}
    assert probes(by_name["redis"])["metrics"][:2] == ["wget", "-q"]
    assert probes(by_name["backend-blue"])["backend"][0] == "python"
    plan = vr.render(vr.load_profile("prod")).plan
    assert probes(by_name["neo4j"])["neo4j"] == list(plan.services["neo4j"].probe.argv)


# -- the executor, through the CLI, against the double -----------------------------------------


@dataclass
class Cluster:
    """The double's namespace, the fake registry, and a folder per profile variant."""

    work: Path
    registry: FakeRegistry
    env: dict[str, str]
    digests: dict[str, str] = field(default_factory=dict)
    variants: int = 0

    @property
    def state_file(self) -> Path:
        return self.work / "kubectl-state.json"

    @property
    def log_file(self) -> Path:
        return self.work / "kubectl-calls.jsonl"

    def state(self) -> dict[str, Any]:
        return dict(json.loads(self.state_file.read_text()))

    def change(self, **values: Any) -> None:
        self.state_file.write_text(json.dumps({**self.state(), **values}))

    def records(self) -> list[dict[str, Any]]:
        if not self.log_file.is_file():
            return []
        return [json.loads(line) for line in self.log_file.read_text().splitlines()]

    def calls(self) -> list[list[str]]:
        return [record["argv"] for record in self.records()]

    def image(self, service: str, tag: str) -> dict[str, str]:
        return {"repository": f"{self.registry.host}/vitalyst/{service}", "tag": tag}

    def profile(self, pin: bool = True, **changes: Any) -> Path:
        """A variant of prod in the fake registry, rendered, pinned by a lock (unless not
        ``pin``): always the profile ``shop``, so every variant deploys as the same stack."""
        host = self.registry.host
        data: dict[str, Any] = {
            "extends": "prod",
            "build": {"base_images": {"python": {"image": f"{host}/library/python"}, "node": {"image": f"{host}/library/node"}}},
            "services": {
                "backend": {"image": self.image("backend", "1.0.0")},
                "frontend": {"image": self.image("frontend", "1.0.0")},
                "neo4j": {"image": {"repository": f"{host}/library/neo4j"},
                          "backup": {"kubectl_image": {"repository": f"{host}/bitnami/kubectl"}}},
                "redis": {"image": {"repository": f"{host}/library/redis"}, "exporter": {"image": {"repository": f"{host}/oliver006/redis_exporter"}}},
            },
        }
        for key, value in changes.items():
            data[key] = _merge(data.get(key), value)
        self.variants += 1
        folder = self.work / f"variant-{self.variants}"
        folder.mkdir()
        path = folder / "shop.yaml"
        path.write_text(json.dumps(data, indent=2))
        if pin:
            pinned = cli(self, "pin", "--profile-file", str(path))
            assert pinned.returncode == 0, pinned.stdout + pinned.stderr
        rendered = cli(self, "--profile-file", str(path), "--out", str(folder / "out"))
        assert rendered.returncode == 0, rendered.stdout + rendered.stderr
        return path

    def deploy(self, path: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return cli(self, "deploy", "--profile-file", str(path), "--platform", "kubernetes", "--out", str(path.parent / "out"), *args)

    def history(self, path: Path) -> list[dict[str, Any]]:
        result = cli(self, "deploy", "history", "--profile-file", str(path), "--platform", "kubernetes", "--format", "json")
        assert result.returncode == 0, result.stderr
        return list(json.loads(result.stdout))

    def selector(self, service: str) -> str:
        return str(self.state()["objects"][f"Service/{service}"]["spec"]["selector"]["vitalyst.io/color"])

    def running(self, workload: str) -> list[str]:
        return [c["image"] for c in self.state()["objects"][f"Deployment/{workload}"]["spec"]["template"]["spec"]["containers"]]


def _merge(base: Any, change: Any) -> Any:
    if isinstance(base, dict) and isinstance(change, dict):
        return {**base, **{k: _merge(base.get(k), v) for k, v in change.items()}}
    return change


def cli(cluster: Cluster, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vitalyst_render.cli", *args], cwd=cluster.work, capture_output=True, text=True, timeout=300, env=cluster.env)


def events(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def verbs(calls: list[list[str]]) -> list[str]:
    return [" ".join(call[:2]) if call[0] in ("rollout", "get") else call[0] for call in calls]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    work = tmp_path_factory.mktemp("kubernetes")
    bin_dir = work / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "kubectl"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{HERE / "kubectl_double.py"}" "$@"\n')
    shim.chmod(0o755)
    (work / "docker-config").mkdir()
    with FakeRegistry(auth="bearer") as registry:
        env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "DOCKER_CONFIG": str(work / "docker-config"),
               "KUBECTL_DOUBLE_LOG": str(work / "kubectl-calls.jsonl"), "KUBECTL_DOUBLE_STATE": str(work / "kubectl-state.json"),
               "VITALYST_DEPLOY_USER": "double-test"}
        state = Cluster(work, registry, env)
        state.state_file.write_text(json.dumps({"secrets": SECRETS, "objects": {}}))
        for repository, tags in TAGS.items():
            for tag in tags:
                state.digests[f"{repository}:{tag}"] = registry.push(repository, tag)
        yield state


def since(cluster: Cluster, mark: int) -> list[list[str]]:
    return cluster.calls()[mark:]


@pytest.fixture(scope="module")
def first(cluster):
    return cluster.profile()


def test_an_unreachable_cluster_is_refused_in_preflight(cluster, first):
    cluster.change(reachable=False)
    try:
        result = cluster.deploy(first)
    finally:
        cluster.change(reachable=True)
    assert result.returncode == 1
    assert "cannot reach the Kubernetes API server: The connection to the server localhost:8080 was refused" in result.stdout
    assert "nothing was changed" in result.stdout


def test_unpinned_images_are_refused_in_preflight_whatever_the_lock_says(cluster):
    path = cluster.profile(pin=False)  # no lock of its own: prod's, which pins nothing and says why
    mark = len(cluster.calls())
    result = cluster.deploy(path, "--dry-run")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"image {cluster.registry.host}/vitalyst/backend:1.0.0 is not pinned by digest (render pin)" in result.stdout
    assert "nothing was changed" in result.stdout
    assert set(verbs(since(cluster, mark))) <= {"version", "get secrets"}


def test_a_dry_run_prints_the_plan_and_changes_nothing(cluster, first):
    mark = len(cluster.calls())
    result = cluster.deploy(first, "--dry-run", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    planned = {e["service"]: e["data"]["action"] for e in events(result) if e["step"] == "plan"}
    assert planned == {name: "create" for name in ("backend-blue", "backend-green", "frontend-blue", "frontend-green", "neo4j", "redis")}
    assert set(verbs(since(cluster, mark))) <= {"version", "get secrets", "get configmaps", "get deployments,statefulsets", "get services"}
    assert cluster.state()["objects"] == {}


def test_a_first_release_applies_waits_verifies_and_is_recorded(cluster, first):
    mark = len(cluster.calls())
    result = cluster.deploy(first)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "release 1 deployed and verified" in result.stdout
    calls = since(cluster, mark)
    order = verbs(calls)
    applied = order.index("apply")
    assert order.count("apply") == 1 and order.index("rollout status") > applied
    statuses = [call[2] for call in calls if call[:2] == ["rollout", "status"]]
    assert sorted(statuses) == ["deployment/backend-blue", "deployment/backend-green", "deployment/frontend-blue", "deployment/frontend-green",
                                "statefulset/neo4j", "statefulset/redis"]
    execs = [(call[3], call[5]) for call in calls if call[0] == "exec"]
    assert ("statefulset/redis", "metrics") in execs and ("deployment/backend-green", "backend") in execs and len(execs) == 7
    assert min(i for i, verb in enumerate(order) if verb == "exec") > max(i for i, verb in enumerate(order) if verb == "rollout status")
    assert order[-1] in ("create", "get configmaps")
    assert cluster.selector("backend") == "blue"
    [release] = cluster.history(first)
    assert release["revision"] == 1 and release["result"] == "succeeded" and release["platform"] == "kubernetes"
    backend = f"{cluster.registry.host}/vitalyst/backend:1.0.0@{cluster.digests['vitalyst/backend:1.0.0']}"
    assert release["images"]["backend-blue"] == [backend]


def test_a_missing_secret_stops_in_preflight_with_nothing_applied(cluster, first):
    cluster.change(secrets=[s for s in SECRETS if s != "redis-acl"])
    mark = len(cluster.calls())
    try:
        result = cluster.deploy(first)
    finally:
        cluster.change(secrets=SECRETS)
    assert result.returncode == 1
    assert "secrets missing on the target: redis-acl" in result.stdout
    assert not {"apply", "create", "rollout undo"} & set(verbs(since(cluster, mark)))


def idle(cluster: Cluster, tag: str, active: str = "blue", current: str = "1.0.0") -> dict[str, Any]:
    """The changes for a blue-green step: ``active`` runs ``current``, the other colour ``tag``."""
    return {
        "services": {"backend": {"image": cluster.image("backend", current)}, "frontend": {"image": cluster.image("frontend", current)}},
        "deployment": {"active_color": active, "idle_release": {"tag": tag}},
    }


def test_an_idle_colour_release_updates_only_the_idle_colour(cluster):
    path = cluster.profile(**idle(cluster, "1.1.0"))
    result = cluster.deploy(path, "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    changed = {e["service"] for e in events(result) if e["step"] == "plan" and e["data"]["action"] == "update"}
    assert changed == {"backend-green", "frontend-green"}
    assert not [e for e in events(result) if e["step"] == "cutover"]
    assert cluster.selector("backend") == "blue" and "1.1.0@" in cluster.running("backend-green")[0]


def test_a_blue_green_flip_switches_the_selector_only_after_the_colour_is_ready(cluster):
    path = cluster.profile(**idle(cluster, "1.0.0", active="green", current="1.1.0"))
    dry = cluster.deploy(path, "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "plan      info     backend: traffic blue -> green, once that colour is ready" in dry.stdout
    assert "0 of 6 workloads would change and 2 Services would switch colour" in dry.stdout
    assert cluster.selector("backend") == "blue"
    mark = len(cluster.calls())
    result = cluster.deploy(path)
    assert result.returncode == 0, result.stdout + result.stderr
    applied = [json.loads(record["file"]) for record in cluster.records()[mark:] if record["argv"][0] == "apply"]
    selectors = [{i["metadata"]["name"]: i["spec"]["selector"]["vitalyst.io/color"] for i in doc["items"] if i["kind"] == "Service" and "vitalyst.io/color" in i["spec"]["selector"]}
                 for doc in applied]
    # everything with the live selectors, then each Service on its own, after the rollouts
    assert selectors == [{"backend": "blue", "frontend": "blue"}, {"backend": "green"}, {"frontend": "green"}]
    assert "cutover   ok       backend: Service selects green now (was blue)" in result.stdout
    assert cluster.selector("backend") == "green" and cluster.selector("frontend") == "green"


def test_a_broken_idle_release_is_rolled_back_and_traffic_never_moves(cluster):
    broken = f"{cluster.registry.host}/vitalyst/backend:1.2.0@{cluster.digests['vitalyst/backend:1.2.0']}"
    cluster.change(broken_images=[broken])
    path = cluster.profile(**idle(cluster, "1.2.0", active="green", current="1.1.0"))
    mark = len(cluster.calls())
    try:
        result = cluster.deploy(path, "--format", "json", "--timeout", "30")
    finally:
        cluster.change(broken_images=[])
    assert result.returncode == 1, result.stdout + result.stderr
    outcome = events(result)[-1]
    assert outcome["failed_step"] == "wait" and "backend-blue" in outcome["failures"]
    assert sorted(outcome["rolled_back"]) == ["backend-blue", "frontend-blue"]
    undone = [call[2] for call in since(cluster, mark) if call[:2] == ["rollout", "undo"]]
    assert sorted(undone) == ["deployment/backend-blue", "deployment/frontend-blue"]
    assert "1.0.0@" in cluster.running("backend-blue")[0]
    assert cluster.selector("backend") == "green"
    assert not [call for call in since(cluster, mark) if call[0] == "delete" and call[1] != "configmap"]
    assert [r["result"] for r in cluster.history(path)][-1] == "rolled-back"


def test_a_flip_whose_health_checks_fail_switches_traffic_back(cluster):
    failing = f"{cluster.registry.host}/vitalyst/backend:1.0.0@{cluster.digests['vitalyst/backend:1.0.0']}"
    cluster.change(failing_probes=[failing])
    path = cluster.profile(**idle(cluster, "1.1.0", active="blue", current="1.0.0"))
    try:
        result = cluster.deploy(path, "--format", "json")
    finally:
        cluster.change(failing_probes=[])
    assert result.returncode == 1, result.stdout + result.stderr
    outcome = events(result)[-1]
    assert outcome["failed_step"] == "verify" and "backend-blue" in outcome["failures"]
    assert sorted(outcome["rolled_back"]) == ["backend", "frontend"]  # the Services, switched back
    assert cluster.selector("backend") == "green" and cluster.selector("frontend") == "green"
    steps = [(e["step"], e.get("status")) for e in events(result)]
    assert steps.index(("cutover", "ok")) < steps.index(("verify", "failed")) < steps.index(("rollback", "ok"))


def test_render_deploy_rollback_restores_an_earlier_release(cluster, first):
    history = cluster.history(first)
    assert [(r["revision"], r["result"]) for r in history] == [(1, "succeeded"), (2, "succeeded"), (3, "succeeded"), (4, "rolled-back"), (5, "rolled-back")]
    result = cli(cluster, "deploy", "rollback", "--profile-file", str(first), "--platform", "kubernetes", "--to", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "rolling back to release 2" in result.stdout
    assert cluster.selector("backend") == "blue" and "1.1.0@" in cluster.running("backend-green")[0]
    last = cluster.history(first)[-1]
    assert last["revision"] == 6 and last["rollback_of"] == 2 and last["images"] == history[1]["images"]


def test_the_audit_log_has_every_action_with_who_and_where(cluster):
    lines = [json.loads(line) for line in (cluster.work / "deploy-audit.jsonl").read_text().splitlines()]
    assert all({"when", "who", "what", "target", "result"} <= line.keys() for line in lines)
    assert all(line["who"].startswith("double-test@") and line["target"].startswith("kubernetes namespace vitalyst at ") for line in lines)
    records = [line["result"] for line in lines if line["what"] == "record"]
    assert records == ["succeeded", "succeeded", "succeeded", "rolled-back", "rolled-back", "succeeded"]


def test_a_refused_apply_rolls_nothing_back_since_nothing_changed(cluster):
    path = cluster.profile(**idle(cluster, "1.2.0", active="blue", current="1.0.0"))
    before = cluster.state()["objects"]
    cluster.change(fail_apply=True)
    mark = len(cluster.calls())
    try:
        result = cluster.deploy(path, "--format", "json")
    finally:
        cluster.change(fail_apply=False)
    assert result.returncode == 1, result.stdout + result.stderr
    outcome = events(result)[-1]
    assert outcome["failed_step"] == "apply" and "admission webhook" in outcome["failures"]["(apply)"]
    assert outcome["rolled_back"] == []
    assert not [call for call in since(cluster, mark) if call[:2] == ["rollout", "undo"]]
    assert {k: v for k, v in cluster.state()["objects"].items() if not k.startswith("ConfigMap/")} == \
        {k: v for k, v in before.items() if not k.startswith("ConfigMap/")}
