"""The plugin API, as a third party uses it: tests/plugin is a distribution with a check,
a service kind and a target behind entry points. It is installed into a folder of its
own for this test session, and the real CLI runs with that folder on its path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vitalyst_render.checks.base import RegistryError, check

from .conftest import REPO

PLUGIN = "vitalyst-render-example-plugin"


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory):
    target = tmp_path_factory.mktemp("plugin-site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(target), str(REPO / "tests" / "plugin")],
        check=True, capture_output=True, timeout=300,
    )
    return target


def render(plugin_path: Path, *arguments: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_path), str(REPO)]), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "vitalyst_render", *arguments], capture_output=True, text=True,
                          env=env, cwd=cwd or REPO, timeout=300)


def test_plugin_check_is_listed_with_its_origin(plugin_path):
    listed = render(plugin_path, "--list-checks")
    assert listed.returncode == 0, listed.stderr
    line = next(line for line in listed.stdout.splitlines() if line.startswith("EXMP001"))
    assert PLUGIN in line and "warning" in line and "image-tag-dev" in line
    assert next(line for line in listed.stdout.splitlines() if line.startswith("VR001")).split()[3] == "vitalyst-render"


def test_plugin_check_target_and_role_run_under_the_cli(plugin_path, tmp_path):
    result = render(plugin_path, "--profile", "dev", "--out", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning EXMP001 service backend runs the dev tag" in result.stdout
    assert "warning EXMP001 service frontend runs the dev tag" in result.stdout
    inventory = json.loads((tmp_path / "dev" / "inventory" / "services.json").read_text())
    assert [s["name"] for s in inventory["services"]] == ["backend", "frontend", "neo4j", "redis"]
    manifest = json.loads((tmp_path / "dev" / "manifest.json").read_text())
    assert "inventory/services.json" in manifest["files"]


def test_plugin_check_can_be_suppressed_by_its_id(plugin_path, tmp_path):
    profile = tmp_path / "quiet.yaml"
    profile.write_text("extends: dev\nchecks:\n  suppress:\n    - {id: EXMP001, reason: dev images are fine on a laptop}\n")
    result = render(plugin_path, "--profile-file", str(profile), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "EXMP001 service" not in result.stdout
    assert "suppressed EXMP001 (2 findings): dev images are fine on a laptop" in result.stdout
    # Without the plugin installed, the same suppression names an unknown check.
    bare = subprocess.run([sys.executable, "-m", "vitalyst_render", "--profile-file", str(profile), "--out", str(tmp_path / "bare")],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert bare.returncode == 2 and "unknown check ID 'EXMP001'" in bare.stderr


def test_plugin_check_in_sarif(plugin_path, tmp_path):
    result = render(plugin_path, "--profile", "dev", "--out", str(tmp_path), "--format", "sarif")
    sarif = json.loads(result.stdout)
    (run,) = sarif["runs"]
    (rule,) = [r for r in run["tool"]["driver"]["rules"] if r["id"] == "EXMP001"]
    assert rule["properties"]["origin"] == PLUGIN and rule["defaultConfiguration"]["level"] == "warning"
    assert rule["helpUri"] == "https://example.com/vr-example-plugin/checks#exmp001"  # the plugin's own page
    assert sum(1 for r in run["results"] if r["ruleId"] == "EXMP001") == 2


def test_plugin_check_is_explained_and_listed_with_its_origin(plugin_path):
    explained = render(plugin_path, "explain", "exmp001")
    assert explained.returncode == 0, explained.stderr
    assert explained.stdout.startswith("# EXMP001: an image runs the dev tag\n")
    assert "Remediation: set ``services.<name>.image.tag`` to a release." in explained.stdout
    assert "**FAIL**: the dev profile's locally built images" in explained.stdout and "**PASS**: a release tag" in explained.stdout
    assert f"Origin: {PLUGIN}.\nReference: https://example.com/vr-example-plugin/checks#exmp001\n" in explained.stdout
    listed = json.loads(render(plugin_path, "--list-checks", "--format", "json").stdout)
    (entry,) = [c for c in listed if c["id"] == "EXMP001"]
    assert entry["origin"] == PLUGIN and entry["help_uri"] == "https://example.com/vr-example-plugin/checks#exmp001"


def test_a_plugin_check_links_to_help_only_when_it_gives_a_link(monkeypatch):
    from vitalyst_render.checks import base

    monkeypatch.setattr(base, "_REGISTRY", {})

    def acme(ctx):  # noqa: ANN001, ANN202
        return []

    acme.__module__ = "acme.checks"
    check("ACME001", "acme", "t", base.Severity.ERROR)(acme)
    check("ACME002", "linked", "t", base.Severity.ERROR, help_uri="https://acme.example/ACME002")(acme)
    assert base._REGISTRY["ACME001"].help_uri is None
    assert base._REGISTRY["ACME002"].help_uri == "https://acme.example/ACME002"


def test_plugin_role_adds_a_service_kind(plugin_path, tmp_path):
    profile = tmp_path / "cached.yaml"
    profile.write_text(
        "extends: dev\nservices:\n  cache:\n    kind: memcached\n    image: {repository: memcached, tag: 1.6-alpine}\n"
        "    memory_mb: 128\n    ports: [{name: memcache, port: 11211}]\n    replicas: 1\n"
        "    resources: {requests: {cpu: 50m, memory: 192Mi}, limits: {cpu: 200m, memory: 192Mi}}\n"
        "    health: {kind: tcp, port: 11211, interval: 10s, timeout: 3s, retries: 3, start_period: 10s}\n"
        "    image_user: {uid: 11211, gid: 11211}\n"
        "  backend:\n    depends_on: [neo4j, redis, cache]\n"
    )
    result = render(plugin_path, "--profile-file", str(profile), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stdout + result.stderr
    compose = (tmp_path / "out" / "cached" / "compose" / "docker-compose.yml").read_text()
    assert "command: [memcached, \"-m\", \"128\"]" in compose
    assert "backend-to-cache" in compose
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(profile.read_text().replace("memory_mb: 128", "memory_mb: 8"))
    refused = render(plugin_path, "--profile-file", str(wrong), "--out", str(tmp_path / "out"))
    assert refused.returncode == 2
    assert "wrong.yaml:6:16: services.cache.memory_mb: expected a value ≥ 16, got 8" in refused.stderr


def test_plugin_examples_run_like_ours(plugin_path):
    code = (
        "from vitalyst_render.checks import registry\n"
        "from vitalyst_render.checks.examples import assert_example\n"
        "check = registry()['EXMP001']\n"
        "[assert_example(check, e) for e in check.examples]\n"
        "print(len(check.examples))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_path), str(REPO)])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "2", done.stderr


def test_plugin_ids_keep_their_own_prefix(monkeypatch):
    from vitalyst_render.checks import base

    monkeypatch.setattr(base, "_REGISTRY", {})

    def acme(ctx):  # noqa: ANN001, ANN202
        return []

    acme.__module__ = "acme.checks"
    with pytest.raises(RegistryError, match="two to six capitals other than VR"):
        check("VR999", "acme", "t", base.Severity.ERROR)(acme)
    with pytest.raises(RegistryError, match="two to six capitals other than VR"):
        check("acme1", "acme", "t", base.Severity.ERROR)(acme)
    check("ACME001", "acme", "t", base.Severity.ERROR)(acme)
    with pytest.raises(RegistryError, match="ACME001 of acme.checks is registered already"):
        check("ACME001", "again", "t", base.Severity.ERROR)(acme)


def test_a_crashing_plugin_check_is_an_error_finding_not_a_traceback(monkeypatch):
    import vitalyst_render as vr
    from vitalyst_render.checks import base, runner

    def broken(ctx):  # noqa: ANN001, ANN202
        raise KeyError("spec")

    plugin = base.Check("ACME002", "broken", "t", base.Severity.WARNING, broken, origin="acme-checks")
    monkeypatch.setattr(runner, "registry", lambda: {"ACME002": plugin})
    report = vr.check(vr.render(vr.load_profile("dev")))
    (finding,) = report.findings
    assert finding.check_id == "ACME002" and finding.severity is base.Severity.ERROR
    assert finding.message == "check ACME002 of acme-checks crashed: KeyError: 'spec'"
    assert report.failed
