"""The library API: render runs nothing, check runs the checks and (optionally) the tools."""

from __future__ import annotations

import subprocess

import pytest

import vitalyst_render as vr


def test_render_starts_no_subprocess(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"render started a process: {args!r}")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    rendering = vr.render(vr.load_profile("prod"))
    assert "compose/docker-compose.yml" in rendering.files
    assert rendering.folder == "out/prod"
    with pytest.raises(AssertionError, match="started a process"):
        vr.check(rendering, strict_tools=True)


def test_check_without_tools_skips_every_adapter_and_runs_the_rest():
    rendering = vr.render(vr.load_profile("dev"))
    report = vr.check(rendering, tools=False)
    skipped = {s.check_id for s in report.skipped}
    adapters = {c.id for c in vr.checks.registry().values() if c.tool}
    assert skipped == adapters and adapters
    assert all("tools=False" in s.reason for s in report.skipped)
    assert not report.failed


def test_check_refuses_a_suppression_of_an_unknown_check(tmp_path):
    path = tmp_path / "quiet.yaml"
    path.write_text("extends: dev\nchecks:\n  suppress:\n    - {id: VR999, reason: nothing}\n")
    rendering = vr.render(vr.load_profile(path))
    with pytest.raises(vr.ProfileError, match="unknown check ID 'VR999'"):
        vr.check(rendering)
