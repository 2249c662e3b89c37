"""The cache of external tools' verdicts: keyed by the exact bytes and the tool build,
outside out/, safe to share between concurrent runs and to delete, bypassed on request."""

from __future__ import annotations

import json
import os
import stat
from concurrent.futures import ThreadPoolExecutor

import pytest

import vitalyst_render as vr
from vitalyst_render.checks._tools import run_tool
from vitalyst_render.checks.verdicts import CACHE_ENV, VerdictCache, default_cache_dir

# A stand-in tool that counts its runs, so a test sees whether the cache answered.
COUNTING_TOOL = """#!/bin/sh
echo run >> "{counter}"
cat input.txt
echo "stderr of $1" >&2
exit 3
"""


@pytest.fixture
def tool(tmp_path):
    counter = tmp_path / "runs"
    path = tmp_path / "bin" / "counting-tool"
    path.parent.mkdir()
    path.write_text(COUNTING_TOOL.format(counter=counter), encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)

    def runs() -> int:
        return len(counter.read_text().splitlines()) if counter.exists() else 0

    return str(path), runs


def test_a_verdict_is_answered_from_the_cache_for_the_same_bytes_and_tool(tool, tmp_path):
    binary, runs = tool
    cache = VerdictCache(tmp_path / "cache")
    first = run_tool("counting-tool", ["a"], {"input.txt": "hello\n"}, binary=binary, verdicts=cache)
    again = run_tool("counting-tool", ["a"], {"input.txt": "hello\n"}, binary=binary, verdicts=cache)
    assert (first.returncode, first.stdout, first.stderr) == (3, "hello\n", "stderr of a\n")
    assert again == first and runs() == 1
    run_tool("counting-tool", ["a"], {"input.txt": "hello!\n"}, binary=binary, verdicts=cache)  # other bytes
    run_tool("counting-tool", ["b"], {"input.txt": "hello\n"}, binary=binary, verdicts=cache)  # other arguments
    run_tool("counting-tool", ["a"], {"input.txt": "hello\n", "more.txt": ""}, binary=binary, verdicts=cache)  # another file
    assert runs() == 4
    run_tool("counting-tool", ["a"], {"input.txt": "hello\n"}, binary=binary)  # no cache: runs
    assert runs() == 5


def test_another_build_of_the_tool_is_asked_again(tool, tmp_path):
    binary, runs = tool
    cache = VerdictCache(tmp_path / "cache")
    run_tool("counting-tool", [], {"input.txt": "x"}, binary=binary, verdicts=cache)
    os.utime(binary, ns=(1_000_000_000, 1_000_000_000))  # an upgrade changes the file
    run_tool("counting-tool", [], {"input.txt": "x"}, binary=binary, verdicts=cache)
    assert runs() == 2


def test_an_unreadable_entry_is_a_miss_and_is_replaced(tool, tmp_path):
    binary, runs = tool
    cache = VerdictCache(tmp_path / "cache")
    run_tool("counting-tool", [], {"input.txt": "x"}, binary=binary, verdicts=cache)
    (entry,) = cache.root.rglob("*.json")
    for garbage in ("{not json", json.dumps({"returncode": 0}), json.dumps([0, "only two"])):
        entry.write_text(garbage, encoding="utf-8")
        assert run_tool("counting-tool", [], {"input.txt": "x"}, binary=binary, verdicts=cache).returncode == 3
    assert runs() == 4
    assert json.loads(entry.read_text(encoding="utf-8"))[0] == 3


def test_concurrent_runs_share_the_cache_and_leave_only_whole_entries(tool, tmp_path):
    binary, _ = tool
    cache = VerdictCache(tmp_path / "cache")
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: run_tool("counting-tool", [], {"input.txt": str(i % 3)}, binary=binary, verdicts=cache),
                                 range(24)))
    assert {r.stdout for r in results} == {"0", "1", "2"}
    entries = [p.name for p in cache.root.rglob("*") if p.is_file()]
    assert len(entries) == 3 and all(name.endswith(".json") for name in entries)


def test_a_cache_that_cannot_be_written_costs_only_speed(tool, tmp_path):
    binary, runs = tool
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would be")
    cache = VerdictCache(blocked)
    assert run_tool("counting-tool", [], {"input.txt": "x"}, binary=binary, verdicts=cache).stdout == "x"
    assert run_tool("counting-tool", [], {"input.txt": "x"}, binary=binary, verdicts=cache).stdout == "x"
    assert runs() == 2


def test_the_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "explicit"))
    assert default_cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "vitalyst-render"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/is/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "vitalyst-render"


def test_check_with_and_without_the_cache_reports_the_same(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    rendering = vr.render(vr.load_profile("dev"))
    cold = vr.check(rendering)
    entries = sorted(p.name for p in (tmp_path / "cache").rglob("*.json"))
    assert entries, "the checks' tool runs should be cached"
    warm = vr.check(rendering)
    bypassed = vr.check(rendering, cache=False)
    assert cold.findings == warm.findings == bypassed.findings
    assert cold.skipped == warm.skipped == bypassed.skipped == ()
    assert sorted(p.name for p in (tmp_path / "cache").rglob("*.json")) == entries


def test_render_keeps_the_cache_out_of_the_output_folder(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    rendering = vr.render(vr.load_profile("dev"), out=tmp_path / "out")
    vr.check(rendering)
    vr.write(rendering, tmp_path / "out")
    written = {p.relative_to(tmp_path / "out" / "dev").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert written == set(rendering.files)
    assert list((tmp_path / "cache").rglob("*.json"))
