"""Open-ended services: no template, target or check knows a service by its name, and a
stack that grows (a worker on the backend's image, an nginx, a second Redis, or N more
services from benchmarks/make_profile.py) renders and checks clean through the CLI."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import subprocess
import sys

import pytest

import vitalyst_render as vr
from vitalyst_render.checks import registry
from vitalyst_render.checks.context import CheckContext

from .conftest import REPO, require_tool

#: Never anything but the shipped stack's service names.
ONLY_NAMES = re.compile(r"\b(backend|frontend)\b")
#: Also the software (redis.conf, redis-server, neo4j-admin): a name only where used as one.
AS_NAME = re.compile(
    r"^(redis|neo4j)$"  # the whole string
    r"|services(\.|\[[\"']?)(redis|neo4j)\b"  # services.redis, services["redis"]
    r"|\b(redis|neo4j)-(backup|net|edge|exporter|conf|data)(?![\w-])|\b(redis|neo4j)-to-"  # objects named after it
    r"|\b(redis|neo4j)\.yaml\b|\bredis/redis\.conf\b"  # files named after it
)


def _name_uses(text: str) -> list[str]:
    return [m.group(0) for m in ONLY_NAMES.finditer(text) if not text[m.end():].startswith(":")] + [
        m.group(0) for m in AS_NAME.finditer(text)
    ]


def _role_templates() -> set[str]:
    """Templates that belong to a kind (its Dockerfile, its config files): exempt."""
    plan = vr.render(vr.load_profile("prod")).plan
    owned = {f.template for f in plan.files}
    for service in plan.builds:
        assert service.build is not None
        owned |= {service.build.template, service.build.ignore_template}
    return owned


def test_templates_name_no_service():
    exempt = _role_templates()
    found = {}
    for path in sorted((REPO / "templates").rglob("*.j2")):
        name = path.relative_to(REPO / "templates").as_posix()
        if name in exempt:
            continue
        text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
        uses = _name_uses(text)
        if uses:
            found[name] = uses
    assert found == {}


#: Example data documents the shipped stack by its names: it is not logic. It is what
#: the Fail/Pass/Edit/Expect calls hold, and the module constants they use (overlays,
#: file paths, rendered snippets).
EXAMPLE_DATA = {"Fail", "Pass", "Edit", "Expect", "Example"}
#: Strings that look like names and are not: official image families (what a FROM line
#: names, in VR102's program table) and the Ingress field ``backend``.
NOT_NAMES = {("docker_healthcheck.py", "redis"), ("docker_healthcheck.py", "neo4j"), ("kube_service_selector.py", "backend")}
#: checks/examples.py is example data through and through (the shared overlays).
DATA_MODULES = {"examples.py"}


def _strings(tree: ast.AST) -> list[str]:
    """The string constants of a module's code: not docstrings, not example data."""
    skipped: set[int] = set()
    data_names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skipped.add(id(first.value))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in EXAMPLE_DATA:
            inner = list(ast.walk(node))
            skipped |= {id(n) for n in inner}
            data_names |= {n.id for n in inner if isinstance(n, ast.Name)}
    assert isinstance(tree, ast.Module)
    grown = True
    while grown:  # module constants and helpers that example data uses, transitively
        grown = False
        for statement in tree.body:
            defined = [t.id for t in getattr(statement, "targets", []) if isinstance(t, ast.Name)]
            if isinstance(statement, ast.FunctionDef):
                defined = [statement.name]
            if set(defined) & data_names and id(statement) not in skipped:
                skipped.add(id(statement))
                skipped |= {id(n) for n in ast.walk(statement)}
                data_names |= {n.id for n in ast.walk(statement) if isinstance(n, ast.Name)}
                grown = True
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skipped]


@pytest.mark.parametrize("folder", ["checks", "targets"])
def test_checks_and_targets_name_no_service(folder):
    found = {}
    for path in sorted((REPO / "vitalyst_render" / folder).glob("*.py")):
        if path.name in DATA_MODULES:
            continue
        uses = [use for text in _strings(ast.parse(path.read_text(encoding="utf-8"))) for use in _name_uses(text)
                if (path.name, text) not in NOT_NAMES]
        if uses:
            found[path.name] = uses
    assert found == {}


def test_the_name_scan_sees_a_name_where_one_is_used():
    assert _name_uses('services["redis"].port') == ['services["redis']
    assert _name_uses("frontend") == ["frontend"] and _name_uses("redis") == ["redis"]
    assert _name_uses("redis-backup") == ["redis-backup"]
    assert _name_uses("redis.conf and redis-server and neo4j-admin, a backend: field") == []
    tree = ast.parse('"""A docstring about the backend."""\nx = "neo4j-backup"\nE = (Fail("s", expect=[Expect("f", "service redis")]),)\n')
    assert [u for s in _strings(tree) for u in _name_uses(s)] == ["neo4j-backup"]


def test_open_stack_renders_and_checks_clean_through_the_cli(tmp_path):
    profile = REPO / "tests" / "profiles" / "open-stack.yaml"
    result = subprocess.run([sys.executable, "-m", "vitalyst_render", "--profile-file", str(profile), "--out", str(tmp_path),
                             "--strict-tools", "--format", "json"], capture_output=True, text=True, cwd=REPO, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    report = json.loads(result.stdout)
    (outcome,) = report["profiles"]
    # One warning only: a swarm routes its published docs server out through docker_gwbridge,
    # which the profile does not declare (VR611 says so; Kubernetes keeps it in).
    assert [(f["id"], f["severity"], f["message"].split(":")[0]) for f in outcome["findings"] if f["severity"] != "info"] == [
        ("VR611", "warning", "service docs")
    ]
    out = tmp_path / "open-stack"
    # Dockerfiles only for services that build their own image: the worker shares the backend's.
    assert sorted(p.name for p in (out / "docker").iterdir()) == ["backend", "frontend"]
    assert {p.name for p in (out / "redis").iterdir()} == {"redis.conf", "redis.users.acl.template", "cache.conf", "cache.users.acl.template"}
    kubernetes = {p.name for p in (out / "kubernetes").iterdir()}
    assert {"worker.yaml", "docs.yaml", "cache.yaml"} <= kubernetes
    prometheus = (out / "prometheus" / "prometheus.yml").read_text()
    for job in ("worker", "cache"):
        assert f"job_name: {job}\n" in prometheus
    rules = (out / "prometheus" / "rules.yml").read_text()
    assert 'redis_up{job=~\\"redis|cache\\"} == 0' in rules  # RedisDown covers every Redis
    assert 'rate(redis_evicted_keys_total{job=\\"cache\\"}[5m])' in rules  # each with its own eviction threshold
    assert 'up{job=~\\"backend|frontend|redis|worker|cache|cadvisor|kube-state-metrics|kubelet\\"}' in rules
    dashboard = json.loads((out / "grafana" / "dashboards" / "overview.json").read_text())
    assert any("redis|cache" in t["expr"] for p in dashboard["panels"] for t in p["targets"])
    ingress = (out / "kubernetes" / "ingress.yaml").read_text()
    assert "path: /docs" in ingress and "name: docs" in ingress


def _make_profile():
    spec = importlib.util.spec_from_file_location("make_profile", REPO / "benchmarks" / "make_profile.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_make_profile_writes_a_valid_profile_of_n_more_services(tmp_path):
    make = _make_profile()
    path = tmp_path / "wide.yaml"
    assert make.main(["--services", "12", "--out", str(path)]) == 0
    loaded = vr.load_profile(path)
    assert len(loaded.profile.services) == 4 + 12
    assert {s.kind for s in loaded.profile.services.values()} == {"python-app", "node-app", "neo4j", "redis", "image"}
    rendering = vr.render(loaded)
    report = vr.check(rendering, tools=False)
    # Only VR611's warning for each published proxy: a swarm routes published tasks out.
    published = sorted(s.name for s in rendering.plan.services.values() if s.published and not s.egress_ports)
    assert len(published) >= 2
    assert sorted((f.check_id, f.severity.value, f.message.split(":")[0]) for f in report.findings if f.severity is not vr.Severity.INFO) == [
        ("VR611", "warning", f"service {name}") for name in published
    ]
    plan = rendering.plan
    assert len(plan.scrape_targets) > 3 and len(plan.backups) > 2 and len(plan.edges) > 12


SECOND_NEO4J = """extends: prod
services:
  graph:
    kind: neo4j
    image: {repository: neo4j, tag: 5.26.0-community}
    ports: [{name: bolt, port: 7687}, {name: http, port: 7474}]
    replicas: 1
    resources: {requests: {cpu: 500m, memory: 2Gi}, limits: {cpu: "1", memory: 2Gi}}
    health: {kind: http, port: 7474, path: /, interval: 30s, timeout: 10s, retries: 5, start_period: 60s}
    memory: {heap: 512m, pagecache: 512m}
    env: {NEO4J_AUTH_FILE: /run/secrets/neo4j-auth}
    secrets: [neo4j-auth]
    storage: {size: 5Gi, mount: /data}
    scratch_paths: [/tmp, /logs, /var/lib/neo4j/run]
    seeded_dirs: [/var/lib/neo4j/conf]
    image_user: {uid: 7474, gid: 7474}
    writable_root_reason: the neo4j entrypoint writes its settings into the conf folder at start
    backup: {method: none, reason: a rebuildable cache of the main graph}
"""


def test_two_neo4j_services_pass_their_own_rule_tests_on_every_platform(profile_file):
    # Neo4jDown holds one absent() per Neo4j service: its scenarios must keep the look-alike
    # running, or it fires for the service whose series the scenario left out.
    require_tool("promtool")
    rendering = vr.render(vr.load_profile(profile_file(SECOND_NEO4J)))
    down = {m.folder: next(a for a in m.alerts if a.name == "Neo4jDown") for m in rendering.plan.monitorings if m.platform != "kubernetes"}
    assert list(down) == ["prometheus/swarm"]
    assert down["prometheus/swarm"].expr.count("absent(") == 2
    assert [labels["container_label_com_docker_swarm_service_name"] for labels in down["prometheus/swarm"].firing.fires] == [
        "vitalyst-custom_neo4j"
    ]
    assert [p.message for p in registry()["VR904"].function(CheckContext.of(rendering))] == []
