"""The render CLI, through click's runner and through a real subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from vitalyst_render.cli import cli

from .conftest import OUT, REPO

LOCATION = re.compile(r"^render: error: [^:\n]+:\d+:\d+: ")


def run_cli(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def run_process(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "vitalyst_render", *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=120
    )


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_render_writes_profile_folder(tmp_path):
    result = run_cli("--profile", "dev", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "dev" / "compose" / "docker-compose.yml").is_file()
    assert (tmp_path / "dev" / "manifest.json").is_file()
    assert re.search(r"^dev: 19 files in .*dev \(19 written, 0 removed\); 0 errors, \d+ warnings?, \d+ info; ", result.output, re.M)


def test_check_passes_after_render_and_detects_every_kind_of_drift(tmp_path):
    assert run_cli("--all", "--out", str(tmp_path)).exit_code == 0
    clean = run_cli("--all", "--out", str(tmp_path), "--check")
    assert clean.exit_code == 0, clean.output
    assert "is up to date" in clean.output

    rules = tmp_path / "prod" / "prometheus" / "rules.yml"
    rules.write_text(rules.read_text() + "# edited\n")
    (tmp_path / "staging" / "redis" / "redis.conf").unlink()
    before = tree(tmp_path)

    drift = run_cli("--all", "--out", str(tmp_path), "--check")

    assert drift.exit_code == 1
    assert f"drift: {tmp_path.as_posix()}/prod/prometheus/rules.yml (changed)" in drift.output
    assert f"drift: {tmp_path.as_posix()}/staging/redis/redis.conf (deleted)" in drift.output
    assert "-# edited" in drift.output
    assert tree(tmp_path) == before


def test_check_on_missing_tree_is_drift_not_a_crash(tmp_path):
    result = run_cli("--profile", "dev", "--out", str(tmp_path / "nothing"), "--check")
    assert result.exit_code == 1
    assert "(new)" in result.output
    assert not (tmp_path / "nothing").exists()


def test_list_profiles_and_checks():
    profiles = run_cli("--list-profiles")
    assert profiles.output.split() == ["dev", "prod", "staging"]
    checks = run_cli("--list-checks")
    assert re.search(r"^VR001\s+error\s+artefact-parses", checks.output, re.M)
    assert re.search(r"^VR901\s+warning\s+hadolint", checks.output, re.M)


def test_nothing_to_render_is_a_usage_error():
    result = CliRunner().invoke(cli, [])
    assert result.exit_code == 2
    assert "nothing to render" in result.output


def test_unknown_profile_is_exit_2():
    result = CliRunner().invoke(cli, ["--profile", "qa"])
    assert result.exit_code == 2
    assert "unknown profile 'qa' (known: dev, prod, staging)" in result.output


def test_abstract_profile_is_not_rendered():
    result = CliRunner().invoke(cli, ["--profile", "base"])
    assert result.exit_code == 2
    assert "abstract" in result.output


def test_json_format_is_parseable_and_complete(tmp_path):
    result = run_cli("--profile", "prod", "--out", str(tmp_path), "--format", "json")
    document = json.loads(result.output)
    assert document["exit_code"] == result.exit_code == 0
    (prod,) = document["profiles"]
    assert prod["profile"] == "prod"
    assert "kubernetes/networkpolicy.yaml" in prod["files"]
    assert set(document["totals"]) == {"error", "warning", "info", "drift"}


def test_sarif_and_junit_formats(tmp_path):
    sarif = json.loads(run_cli("--profile", "dev", "--out", str(tmp_path), "--format", "sarif").output)
    assert sarif["version"] == "2.1.0"
    rules = {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert {"VR001", "VR901"} <= rules
    junit = run_cli("--profile", "dev", "--out", str(tmp_path), "--format", "junit").output
    assert junit.startswith("<?xml")
    assert '<testsuite name="dev"' in junit and 'name="hadolint"' in junit


def test_profile_file_outside_profiles_renders_under_its_stem(tmp_path, profile_file):
    path = profile_file("extends: staging\nservices:\n  backend:\n    replicas: 5\n", name="evil")  # within autoscaling 2..6
    result = run_cli("--profile-file", str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "evil" / "kubernetes" / "backend.yaml").is_file()
    assert "      replicas: 5\n" in (tmp_path / "out" / "evil" / "compose" / "docker-compose.yml").read_text()


BAD_INPUTS = {
    "unknown-key": (b"extends: prod\nservices:\n  backend:\n    replicaz: 2\n", "4:5: services.backend.replicaz: unknown key"),
    "wrong-type": (b"extends: prod\nservices:\n  backend:\n    replicas: many\n", '4:15: services.backend.replicas: expected an integer \u2265 1, got "many"'),
    "missing-extends": (b"extends: nope\n", "1:10: extends: unknown profile 'nope'"),
    "non-utf8": (b"extends: prod\nproject:\n  name: caf\xe9\n", "3:12: file is not valid UTF-8"),
    "alias-bomb": (
        b"a: &a [x,x,x,x,x,x,x,x,x]\n"
        + b"".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n".encode() for i in range(8)),
        "nodes through aliases",
    ),
    "not-a-mapping": (b"- just\n- a list\n", "1:1: expected a mapping at the top of the profile, got a list"),
    "duplicate-key": (b"extends: prod\nextends: dev\n", "2:1: duplicate key 'extends'"),
    "python-tag": (b"extends: !!python/name:os.system prod\n", "1:10: YAML tag"),
    "deep-nesting": (b"x: " + b"[" * 900 + b"]" * 900 + b"\n", "1:68: nesting deeper than 64 levels"),
    "bool-spelling": (b"extends: prod\nsecurity:\n  no_new_privileges: !!bool yes\n", '3:22: security.no_new_privileges: expected true or false, got "yes"'),
    "tmpfs-options": (
        b"extends: prod\nservices:\n  backend:\n    scratch_paths: ['/tmp:exec,mode=4777']\n",
        "4:21: services.backend.scratch_paths[0]: expected an absolute path",
    ),
    "datastore-without-storage": (
        b"extends: dev\nservices:\n  redis:\n    storage: null\n",
        "services.redis: a redis service keeps data: it needs a storage section",
    ),
    "runbook-template": (
        b"extends: prod\nmonitoring:\n  runbook_base_url: 'https://x/{{ with query \"up\" }}'\n",
        "3:21: monitoring.runbook_base_url: expected an http(s) URL",
    ),
    "unknown-suppression": (
        b"extends: prod\nchecks:\n  suppress:\n    - id: VR999\n      reason: not a check\n",
        "4:11: checks.suppress[0].id: unknown check ID 'VR999'",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, case):
    content, expected = BAD_INPUTS[case]
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("untouched\n")

    result = run_process("--profile-file", str(path), "--profile", "dev", "--out", str(out), cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert expected in lines[0]
    if case not in ("alias-bomb",):
        assert LOCATION.match(lines[0]), lines[0]
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_subprocess_render_and_check_against_committed_out(tmp_path):
    # The golden test: the committed out/ is exactly what the code renders.
    result = run_process("--all", "--check", "--strict-tools", "--out", str(OUT), cwd=REPO)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr


def test_no_color_and_non_tty_output_is_plain(tmp_path):
    result = run_process("--profile", "dev", "--out", str(tmp_path), cwd=tmp_path, env={"NO_COLOR": "1"})
    assert result.returncode == 0
    assert "\x1b[" not in result.stdout


def test_colour_on_a_tty_unless_no_color(tmp_path):
    stale = tmp_path / "out"
    run_cli("--profile", "dev", "--out", str(stale))
    (stale / "dev" / "compose" / "docker-compose.yml").write_text("x: 1\n")
    coloured = CliRunner().invoke(cli, ["--profile", "dev", "--out", str(stale), "--check"], color=True)
    assert "\x1b[31m" in coloured.output
    plain = CliRunner().invoke(cli, ["--profile", "dev", "--out", str(stale), "--check"], color=True, env={"NO_COLOR": "1"})
    assert "\x1b[" not in plain.output


def test_render_works_from_any_directory(tmp_path):
    result = run_process("--profile", "staging", "--out", "rendered", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert tree(tmp_path / "rendered" / "staging") == tree(OUT / "staging")


def test_same_bytes_under_different_hash_seeds_locales_and_timezones(tmp_path):
    outputs = []
    for index, env in enumerate(
        [
            {"PYTHONHASHSEED": "0", "TZ": "UTC", "LC_ALL": "C"},
            {"PYTHONHASHSEED": "12345", "TZ": "Asia/Kolkata", "LC_ALL": "C.UTF-8"},
            {"PYTHONHASHSEED": "random", "TZ": "America/St_Johns", "LANG": "de_DE.UTF-8"},
        ]
    ):
        cwd = tmp_path / f"cwd{index}"
        cwd.mkdir()
        result = run_process("--profile", "prod", "--out", str(tmp_path / f"o{index}"), cwd=cwd, env=env)
        assert result.returncode == 0, result.stderr
        outputs.append(tree(tmp_path / f"o{index}" / "prod"))
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0] == tree(OUT / "prod")


def test_profile_option_takes_names_not_paths(tmp_path, profile_file):
    path = profile_file("extends: prod\n", name="evil")
    result = CliRunner().invoke(cli, ["--profile", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "use --profile-file for a path" in result.output
    assert not (tmp_path / "o").exists()


def test_missing_profiles_dir_is_exit_2(tmp_path):
    result = CliRunner().invoke(cli, ["--list-profiles", "--profiles-dir", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "profiles folder not found" in result.output


def test_a_clash_in_one_profile_writes_no_profile(tmp_path):
    out = tmp_path / "out"
    (out / "staging" / "compose").mkdir(parents=True)
    (out / "staging" / "compose" / "docker-compose.yml").write_text("mine\n")
    result = CliRunner().invoke(cli, ["--all", "--out", str(out)])
    assert result.exit_code == 2
    assert "refusing to overwrite 'compose/docker-compose.yml'" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["staging"]


def test_out_below_a_file_is_exit_2_without_traceback(tmp_path):
    (tmp_path / "afile").write_text("x")
    result = run_process("--profile", "dev", "--out", str(tmp_path / "afile" / "sub"), cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("profile", "finding"),
    [
        ("extends: prod\nservices:\n  backend:\n    env:\n      DB_PASSWORD: hunter2\n", "error VR207 service backend sets DB_PASSWORD as a value"),
        ("extends: prod\nservices:\n  backend:\n    env:\n      DB_PASSWORD: hunter2\n", "error VR606 services.backend.env.DB_PASSWORD holds a credential literal"),
        ("extends: dev\nbuild:\n  base_images:\n    node:\n      tag: 18-alpine\n", "error VR106 node 18-alpine is end of life"),
    ],
)
def test_error_findings_exit_1_with_file_and_line(tmp_path, profile_file, profile, finding):
    path = profile_file(profile, name="risky")
    result = run_cli("--profile-file", str(path), "--out", str(tmp_path))
    assert result.exit_code == 1, result.output
    line = next(line for line in result.output.splitlines() if finding in line)
    assert re.match(rf"^{re.escape(str(tmp_path))}/risky/(compose/docker-compose.yml|docker/frontend/Dockerfile):\d+:\d+: ", line)
    assert "risky: nothing written (error findings)" in result.output
    assert not (tmp_path / "risky").exists()
