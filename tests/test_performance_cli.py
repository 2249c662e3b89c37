"""What issue 14 added to the command line: --timings, --no-cache, and --all checked on
every core. Speed itself is measured by benchmarks/bench.py, never here."""

from __future__ import annotations

import re

import vitalyst_render as vr
from vitalyst_render.checks.parallel import check_renderings
from vitalyst_render.checks.verdicts import CACHE_ENV

from .test_cli import run_process, tree

PHASES = ["read", "validate", "plan", "render", "parse", "checks", "write"]


def test_timings_print_every_phase_and_the_checks_on_stderr(tmp_path):
    result = run_process("--profile", "dev", "--out", str(tmp_path / "out"), "--timings", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "timings dev:" not in result.stdout
    lines = result.stderr.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("timings dev: ")))
    shown = [re.match(r"^  (\w+) +\d+ ms", line) for line in lines[start + 1:]]
    assert [m.group(1) for m in shown if m] == PHASES
    checks = [line for line in lines[start + 1:] if re.match(r"^    VR\d{3} [\w-]+ +\d+ ms$", line)]
    assert any(" VR904 promtool-test-rules " in line for line in checks)
    spent = [int(line.rsplit(None, 2)[-2]) for line in checks]
    assert spent == sorted(spent, reverse=True)


def test_timings_under_check_time_the_diff(tmp_path):
    out = tmp_path / "out"
    assert run_process("--profile", "dev", "--out", str(out), cwd=tmp_path).returncode == 0
    checked = run_process("--profile", "dev", "--out", str(out), "--check", "--timings", "--format", "json", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert re.search(r"^  diff +\d+ ms$", checked.stderr, re.M)
    assert checked.stdout.lstrip().startswith("{")  # the machine report stays clean


def test_no_cache_neither_reads_nor_writes_the_cache(tmp_path):
    cache = tmp_path / "cache"
    env = {CACHE_ENV: str(cache)}
    out = tmp_path / "out"
    bypassed = run_process("--profile", "dev", "--out", str(out), "--no-cache", cwd=tmp_path, env=env)
    assert bypassed.returncode == 0, bypassed.stderr
    assert not cache.exists()
    written = tree(out / "dev")
    cached = run_process("--profile", "dev", "--out", str(out), cwd=tmp_path, env=env)
    assert cached.returncode == 0, cached.stderr
    assert list(cache.rglob("*.json"))
    assert tree(out / "dev") == written
    findings = lambda text: [line for line in text.splitlines() if " VR" in line]  # noqa: E731
    assert findings(bypassed.stdout) == findings(cached.stdout)


def test_renderings_checked_in_worker_processes_report_what_one_process_does(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    renderings = [vr.render(vr.load_profile(name)) for name in vr.profile_names()]
    together = check_renderings(renderings, workers=2)
    alone = [vr.check(rendering) for rendering in renderings]
    assert [(r.findings, r.skipped, r.suppressed) for r in together] == [(r.findings, r.skipped, r.suppressed) for r in alone]
    assert all(r.timings for r in together)
    assert check_renderings(renderings[:1], workers=2)[0] == alone[0]


def test_all_profiles_render_the_same_with_and_without_worker_processes(tmp_path):
    out = tmp_path / "out"
    parallel = run_process("--all", "--out", str(out), cwd=tmp_path)
    assert parallel.returncode == 0, parallel.stderr
    for name in vr.profile_names():
        single = run_process("--profile", name, "--out", str(out), "--check", cwd=tmp_path)
        assert single.returncode == 0, single.stdout  # one process renders the very bytes
        findings = [line for line in single.stdout.splitlines() if " VR" in line]
        assert findings and all(line in parallel.stdout.splitlines() for line in findings)
