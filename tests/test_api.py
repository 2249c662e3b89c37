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


# -- the library holds the same line as the CLI (issue 15, class 8) ------------------------

import dataclasses
import json
import os
import sys
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dev_loaded():
    return vr.load_profile("dev")


@pytest.fixture(scope="module")
def dev_rendering(dev_loaded):
    return vr.render(dev_loaded)


def _tree(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_a_rendering_is_read_only(dev_rendering):
    with pytest.raises(TypeError):
        dev_rendering.files["../../escape"] = b"x"  # type: ignore[index]
    with pytest.raises(TypeError):
        del dev_rendering.files["manifest.json"]  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        dev_rendering.artefacts["x"] = dev_rendering.artefacts["redis/redis.conf"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        dev_rendering.files = {}  # type: ignore[misc]
    # A copy made with other files is read-only too, and does not share the caller's dict.
    given = dict(dev_rendering.files)
    copy = dataclasses.replace(dev_rendering, files=given)
    given["../../escape"] = b"x"
    assert "../../escape" not in copy.files
    with pytest.raises(TypeError):
        copy.files["x"] = b"x"  # type: ignore[index]


HOSTILE_NAMES = [
    "../../escape", "../escape", "a/../../escape", "ABSOLUTE", "kubernetes/../../escape", "", ".", "./x",
    "a//b", "kubernetes/", "back\\slash", "nul\x00byte", "new\nline", "tab\there", "esc\x1b[0m", "del\x7f",
    "x" * 300,
]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=repr)
@pytest.mark.parametrize("action", ["write", "diff"])
def test_write_and_diff_refuse_any_name_outside_the_profile_folder(tmp_path, dev_rendering, name, action):
    out = tmp_path / "a" / "b" / "out"
    name = str(tmp_path / "escape-abs") if name == "ABSOLUTE" else name
    hostile = dataclasses.replace(dev_rendering, files={**dev_rendering.files, name: b"escaped\n"})
    with pytest.raises(vr.ArtefactError) as caught:
        getattr(vr, action)(hostile, out)
    assert "\n" not in str(caught.value) and "name" in str(caught.value)
    assert _tree(tmp_path) == []  # nothing written, not even out/


def test_write_refuses_a_rendering_whose_files_were_swapped_behind_its_back(tmp_path, dev_rendering):
    # Past the dataclass: a plain dict set on the frozen object.
    hostile = dataclasses.replace(dev_rendering)
    object.__setattr__(hostile, "files", {**dev_rendering.files, "../escape": b"x"})
    with pytest.raises(vr.ArtefactError, match="'../escape'"):
        vr.write(hostile, tmp_path / "out")
    # A file that would sit where another is a folder, a manifest that lists other
    # files, no manifest, and text instead of bytes.
    manifest = json.loads(dev_rendering.files["manifest.json"])
    manifest["files"]["kubernetes/foreign.yaml"] = "sha256:0"
    bad_files = [
        {**dev_rendering.files, "redis": b"x"},
        {**dev_rendering.files, "manifest.json": json.dumps(manifest).encode()},
        {k: v for k, v in dev_rendering.files.items() if k != "manifest.json"},
        {**dev_rendering.files, "redis/redis.conf": "text"},
        {**dev_rendering.files, "manifest.json": b"not json"},
    ]
    for files in bad_files:
        hostile = dataclasses.replace(dev_rendering, files=files)
        with pytest.raises(vr.ArtefactError):
            vr.write(hostile, tmp_path / "out")
    assert _tree(tmp_path) == []


def test_write_refuses_a_profile_name_that_leaves_out(tmp_path, dev_rendering):
    for name in ["../escape", "/abs", "..", "", "Dev"]:
        hostile = dataclasses.replace(dev_rendering, loaded=dataclasses.replace(dev_rendering.loaded, name=name))
        for action in (vr.write, vr.diff):
            with pytest.raises(vr.ArtefactError, match="profile name"):
                action(hostile, tmp_path / "out")
    assert _tree(tmp_path) == []


def test_write_refuses_an_object_that_is_not_a_rendering(tmp_path, dev_rendering):
    fake = types.SimpleNamespace(**{f.name: getattr(dev_rendering, f.name) for f in dataclasses.fields(dev_rendering)})
    fake.files = {**dev_rendering.files, "../escape": b"x"}
    fake.profile = "dev"
    with pytest.raises(vr.UsageError, match=r"^write\(\): rendering must be a Rendering from render\(\), got SimpleNamespace$"):
        vr.write(fake, tmp_path / "out")
    assert _tree(tmp_path) == []


def test_a_fair_rendering_still_writes(tmp_path, dev_rendering):
    changed = dataclasses.replace(dev_rendering, files={**dev_rendering.files, "redis/redis.conf": b"changed\n"})
    vr.write(changed, tmp_path)
    assert (tmp_path / "dev" / "redis" / "redis.conf").read_bytes() == b"changed\n"
    assert [d.path for d in vr.diff(changed, tmp_path)] == []


class _Anything:
    pass


# (call, the argument its message names, the words of what it expects)
def _bad_calls(loaded, rendering, tmp):
    out = tmp / "out"
    return [
        (lambda: vr.load_profile(None), "load_profile(): name_or_path", "a profile name or a path"),
        (lambda: vr.load_profile(5), "load_profile(): name_or_path", "a profile name or a path"),
        (lambda: vr.load_profile({"name": "dev"}), "load_profile(): name_or_path", "a profile name or a path"),
        (lambda: vr.load_profile(b"dev"), "load_profile(): name_or_path", "a profile name or a path"),
        (lambda: vr.load_profile(""), "load_profile(): name_or_path", "a profile name or a path"),
        (lambda: vr.load_profile("dev", profiles_dir=5), "load_profile(): profiles_dir", "a path"),
        (lambda: vr.load_profile("dev", values="x.yaml"), "load_profile(): values", "a list"),
        (lambda: vr.load_profile("dev", values=[5]), "load_profile(): values", "a list"),
        (lambda: vr.load_profile("dev", overrides="a=b"), "load_profile(): overrides", "a list"),
        (lambda: vr.load_profile("dev", overrides=[None]), "load_profile(): overrides", "a list"),
        (lambda: vr.load_profile("dev", use_lock="no"), "load_profile(): use_lock", "True or False"),
        (lambda: vr.render("dev"), "render(): profile", "a LoadedProfile from load_profile()"),
        (lambda: vr.render(None), "render(): profile", "a LoadedProfile from load_profile()"),
        (lambda: vr.render(Path("profiles/dev.yaml")), "render(): profile", "a LoadedProfile from load_profile()"),
        (lambda: vr.render(rendering), "render(): profile", "a LoadedProfile from load_profile()"),
        (lambda: vr.render(loaded, out=None), "render(): out", "a path"),
        (lambda: vr.render(loaded, out=5), "render(): out", "a path"),
        (lambda: vr.render(loaded, templates=5), "render(): templates", "a path"),
        (lambda: vr.render(loaded, templates={}), "render(): templates", "a path"),
        (lambda: vr.check("dev"), "check(): rendering", "a Rendering from render()"),
        (lambda: vr.check(loaded), "check(): rendering", "a Rendering from render()"),
        (lambda: vr.check(rendering, tools="no"), "check(): tools", "True or False"),
        (lambda: vr.check(rendering, strict_tools=None), "check(): strict_tools", "True or False"),
        (lambda: vr.check(rendering, cache=1), "check(): cache", "True or False"),
        (lambda: vr.write("dev", out), "write(): rendering", "a Rendering from render()"),
        (lambda: vr.write(loaded, out), "write(): rendering", "a Rendering from render()"),
        (lambda: vr.write(rendering, None), "write(): out", "a path"),
        (lambda: vr.write(rendering, 5), "write(): out", "a path"),
        (lambda: vr.write(rendering, ""), "write(): out", "a path"),
        (lambda: vr.write(rendering, "o\x00ut"), "write(): out", "a path"),
        (lambda: vr.write(rendering, out, only="redis"), "write(): only", "a list"),
        (lambda: vr.write(rendering, out, only=[5]), "write(): only", "a list"),
        (lambda: vr.diff(None, out), "diff(): rendering", "a Rendering from render()"),
        (lambda: vr.diff(rendering, None), "diff(): out", "a path"),
        (lambda: vr.diff(rendering, out, only="redis"), "diff(): only", "a list"),
        (lambda: vr.profile_names(5), "profile_names(): profiles_dir", "a path"),
        (lambda: vr.profile_names(include_abstract="yes"), "profile_names(): include_abstract", "True or False"),
        (lambda: vr.redis_acl("dev", {}), "redis_acl(): profile", "a LoadedProfile from load_profile()"),
        (lambda: vr.redis_acl(loaded, None), "redis_acl(): passwords", "a mapping"),
        (lambda: vr.redis_acl(loaded, {"app": 5}), "redis_acl(): passwords", "a mapping"),
        (lambda: vr.redis_acl(loaded, {}, service=5), "redis_acl(): service", "a service name"),
        (lambda: vr.CheckContext.of("dev"), "CheckContext.of(): rendering", "a Rendering from render()"),
        (lambda: vr.check(_Anything()), "check(): rendering", "a Rendering from render()"),
    ]


def test_every_public_function_refuses_wrong_argument_types_in_one_line(tmp_path, dev_loaded, dev_rendering):
    for call, argument, expected in _bad_calls(dev_loaded, dev_rendering, tmp_path):
        with pytest.raises(vr.UsageError) as caught:
            call()
        message = str(caught.value)
        assert message.startswith(f"{argument} must be ") and expected in message and "\n" not in message, message
        assert " got " in message, message
    assert _tree(tmp_path) == []


def test_the_public_api_is_covered_by_the_type_guard():
    called = {argument.split("(")[0] for _, argument, _ in _bad_calls(None, None, Path("/nonexistent"))}
    functions = {name for name in vr.__all__ if callable(getattr(vr, name)) and not isinstance(getattr(vr, name), type)}
    assert functions <= called


# -- a render depends on nothing an earlier render left behind ------------------------------

def test_a_render_reads_the_templates_as_they_are_now(tmp_path, dev_loaded):
    templates = tmp_path / "templates"
    (templates / "redis").mkdir(parents=True)
    bundled = (REPO / "templates" / "redis" / "redis.conf.j2").read_text()
    override = templates / "redis" / "redis.conf.j2"
    override.write_text(bundled + "# first\n")
    first = vr.render(dev_loaded, templates=templates)
    override.write_text(bundled + "# second\n")
    second = vr.render(dev_loaded, templates=templates)
    assert first.files["redis/redis.conf"].endswith(b"# first\n")
    assert second.files["redis/redis.conf"].endswith(b"# second\n")
    # An override that appears later shadows the bundled template it names, and one
    # that goes away gives the bundled template back.
    (templates / "redis" / "users.acl.template.j2").write_text("# shadowed\n")
    assert vr.render(dev_loaded, templates=templates).files["redis/redis.users.acl.template"] == b"# shadowed\n"
    (templates / "redis" / "users.acl.template.j2").unlink()
    plain = vr.render(dev_loaded)
    assert vr.render(dev_loaded, templates=templates).files["redis/redis.users.acl.template"] == plain.files["redis/redis.users.acl.template"]
    # A folder removed since the last render is an error now, as it would be in a fresh process.
    for path in sorted(templates.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    templates.rmdir()
    with pytest.raises(vr.UsageError, match="templates folder not found"):
        vr.render(dev_loaded, templates=templates)


_ALONE = """
import hashlib, json, sys
import vitalyst_render as vr
source, templates, tools = sys.argv[1], sys.argv[2] or None, sys.argv[3] == "tools"
rendering = vr.render(vr.load_profile(source), templates=templates)
report = vr.check(rendering, tools=tools, cache=False)
print(json.dumps([{k: hashlib.sha256(v).hexdigest() for k, v in rendering.files.items()}, repr(report.findings), repr(report.skipped)]))
"""


def _fingerprint(source: str, templates: str, tools: bool = False) -> list:
    import hashlib

    rendering = vr.render(vr.load_profile(source), templates=templates or None)
    report = vr.check(rendering, tools=tools)
    return [{k: hashlib.sha256(v).hexdigest() for k, v in rendering.files.items()}, repr(report.findings), repr(report.skipped)]


def test_renders_interleaved_in_threads_match_renders_alone(tmp_path):
    # Profiles that differ in what they render: the shipped ones, one of another folder,
    # two of the same name in different folders, and one with an override template.
    twins = []
    for parent in ("dev", "prod"):
        folder = tmp_path / f"twin-of-{parent}"
        folder.mkdir()
        (folder / "twin.yaml").write_text(f"extends: {parent}\n")
        twins.append(str(folder / "twin.yaml"))
    templates = tmp_path / "templates"
    (templates / "redis").mkdir(parents=True)
    (templates / "redis" / "redis.conf.j2").write_text((REPO / "templates" / "redis" / "redis.conf.j2").read_text() + "# override\n")
    sources = [("dev", ""), ("staging", ""), ("prod", ""), (str(REPO / "tests" / "profiles" / "open-stack.yaml"), ""),
               *[(twin, "") for twin in twins], ("staging", str(templates))]
    alone = {}
    for source, folder in sources:
        completed = subprocess.run([sys.executable, "-c", _ALONE, source, folder, ""], capture_output=True, text=True, check=True, cwd=REPO)
        alone[source, folder] = json.loads(completed.stdout)
    # One after another in this process, forwards then backwards: each follows two others.
    for item in [*sources, *reversed(sources)]:
        assert _fingerprint(*item) == alone[item], item
    # Then all of them at once, interleaved, twice over.
    order = [*sources, *reversed(sources)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda item: (item, _fingerprint(*item)), order))
    for item, fingerprint in results:
        assert fingerprint == alone[item], item


def test_what_a_process_makes_once_for_every_render_is_read_only():
    from vitalyst_render import roles, targets
    from vitalyst_render.checks import registry as checks

    with pytest.raises(TypeError):
        roles.registry()["redis"] = roles.registry()["image"]  # type: ignore[index]
    assert isinstance(targets.registry(), tuple)
    checks().clear()  # a copy: the next caller still gets every check
    assert "VR001" in checks()


def test_checks_with_tools_interleaved_in_threads_match_checks_alone():
    # The external tools too, their verdicts shared through the cache: each profile's
    # report is the one a fresh process gives without the cache.
    sources = ["dev", "prod", str(REPO / "tests" / "profiles" / "open-stack.yaml")]
    alone = {}
    for source in sources:
        completed = subprocess.run([sys.executable, "-c", _ALONE, source, "", "tools"], capture_output=True, text=True, check=True, cwd=REPO)
        alone[source] = json.loads(completed.stdout)
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda source: (source, _fingerprint(source, "", True)), [*sources, *reversed(sources)]))
    for source, fingerprint in results:
        assert fingerprint == alone[source], source


def test_a_templates_folder_that_is_a_symlink_loop_is_a_usage_error(tmp_path, dev_loaded):
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    with pytest.raises(vr.UsageError, match="templates folder not found"):
        vr.render(dev_loaded, templates=tmp_path / "loop")
