"""Writer and diff: atomic swaps, stale removal, foreign files, and the manifest."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import pytest

import vitalyst_render as vr
from vitalyst_render import output


@pytest.fixture(scope="module")
def dev():
    return vr.render(vr.load_profile("dev"))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_write_creates_every_file_and_manifest(tmp_path, dev):
    summary = vr.write(dev, tmp_path)
    assert not summary.unchanged
    files = snapshot(tmp_path / "dev")
    assert files == dev.files
    manifest = json.loads(files["manifest.json"])
    assert manifest["profile"] == "dev"
    assert manifest["version"] == vr.__version__
    assert manifest["profile_digest"].startswith("sha256:")
    assert set(manifest["files"]) == set(dev.files) - {"manifest.json"}
    assert "time" not in json.dumps(manifest).lower()


def test_second_write_is_a_no_op(tmp_path, dev):
    vr.write(dev, tmp_path)
    inode = (tmp_path / "dev").stat().st_ino
    summary = vr.write(dev, tmp_path)
    assert summary.unchanged and summary.written == () and summary.removed == ()
    assert (tmp_path / "dev").stat().st_ino == inode


def test_output_tree_is_world_readable(tmp_path, dev):
    vr.write(dev, tmp_path)
    assert (tmp_path / "dev").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "dev" / "manifest.json").stat().st_mode & 0o777 == 0o644


def test_stale_files_removed_and_foreign_files_kept(tmp_path, dev):
    folder = tmp_path / "dev"
    vr.write(dev, tmp_path)
    # Pretend an earlier version also made a file that this render no longer makes.
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["old/gone.yml"] = "sha256:00"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "old").mkdir()
    (folder / "old" / "gone.yml").write_text("stale\n")
    (folder / "NOTES.md").write_text("mine\n")
    (folder / "docker" / "backend" / "local.txt").write_text("also mine\n")
    os.symlink("NOTES.md", folder / "link")
    notes_inode = (folder / "NOTES.md").stat().st_ino

    summary = vr.write(dev, tmp_path)

    assert summary.removed == ("old/gone.yml",)
    assert not (folder / "old" / "gone.yml").exists()
    assert (folder / "NOTES.md").read_text() == "mine\n"
    assert (folder / "NOTES.md").stat().st_ino == notes_inode  # the same file, untouched
    assert (folder / "docker" / "backend" / "local.txt").read_text() == "also mine\n"
    assert os.readlink(folder / "link") == "NOTES.md"


def test_refuses_to_overwrite_a_foreign_file(tmp_path, dev):
    folder = tmp_path / "dev"
    folder.mkdir()
    (folder / "compose").mkdir()
    (folder / "compose" / "docker-compose.yml").write_text("hand-written\n")
    with pytest.raises(vr.ArtefactError, match="did not make it"):
        vr.write(dev, tmp_path)
    assert (folder / "compose" / "docker-compose.yml").read_text() == "hand-written\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dev"]  # no staging left behind


def test_a_failing_write_leaves_the_old_tree(tmp_path, dev, monkeypatch):
    vr.write(dev, tmp_path)
    before = snapshot(tmp_path / "dev")
    changed = dataclasses.replace(dev, files={**dev.files, "compose/docker-compose.yml": b"changed: true\n"})
    calls = {"n": 0}
    real = output._write_file

    def dying(path, data):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        real(path, data)

    monkeypatch.setattr(output, "_write_file", dying)
    with pytest.raises(vr.ArtefactError, match="disk full"):
        vr.write(changed, tmp_path)
    assert snapshot(tmp_path / "dev") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dev"]


def test_recovers_from_a_render_killed_between_renames(tmp_path, dev):
    # The rename fallback moves the old tree aside first; a kill right then leaves it there.
    vr.write(dev, tmp_path)
    os.rename(tmp_path / "dev", tmp_path / ".dev.old-abc")
    (tmp_path / ".dev.new-def").mkdir()
    vr.write(dev, tmp_path)
    assert snapshot(tmp_path / "dev") == dev.files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dev"]


def test_rename_fallback_when_exchange_is_unsupported(tmp_path, dev, monkeypatch):
    vr.write(dev, tmp_path)
    (tmp_path / "dev" / "compose" / "docker-compose.yml").write_text("edited\n")
    monkeypatch.setattr(output, "_exchange", lambda a, b: False)
    vr.write(dev, tmp_path)
    assert snapshot(tmp_path / "dev") == dev.files


def test_refuses_a_symlinked_profile_folder(tmp_path, dev):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "out").mkdir()
    os.symlink(elsewhere, tmp_path / "out" / "dev")
    with pytest.raises(vr.ArtefactError, match="symlink"):
        vr.write(dev, tmp_path / "out")
    assert list(elsewhere.iterdir()) == []


def test_unreadable_manifest_is_an_error_not_a_guess(tmp_path, dev):
    vr.write(dev, tmp_path)
    (tmp_path / "dev" / "manifest.json").write_text("{not json")
    with pytest.raises(vr.ArtefactError, match="manifest.json is unreadable"):
        vr.write(dev, tmp_path)


def test_diff_reports_new_changed_and_stale(tmp_path, dev):
    assert {d.status for d in vr.diff(dev, tmp_path)} == {"new"}
    vr.write(dev, tmp_path)
    assert vr.diff(dev, tmp_path) == []
    folder = tmp_path / "dev"
    compose = folder / "compose" / "docker-compose.yml"
    compose.write_text(compose.read_text().replace("restart: unless-stopped", "restart: always", 1))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["extra.txt"] = "sha256:00"
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    (folder / "extra.txt").write_text("left over\n")
    before = snapshot(folder)

    diffs = {d.path: d for d in vr.diff(dev, tmp_path)}

    assert diffs["compose/docker-compose.yml"].status == "changed"
    text = diffs["compose/docker-compose.yml"].text
    assert f"--- {folder.as_posix()}/compose/docker-compose.yml" in text
    assert "-    restart: always" in text and "+    restart: unless-stopped" in text
    assert diffs["extra.txt"].status == "stale"
    assert diffs["manifest.json"].status == "changed"
    assert snapshot(folder) == before  # diff never writes


def test_foreign_files_are_those_in_applied_folders_that_no_manifest_lists(tmp_path, dev):
    assert output.foreign_applied(dev, tmp_path) == ()  # no folder yet
    vr.write(dev, tmp_path)
    folder = tmp_path / "dev"
    (folder / "kubernetes" / "debug").mkdir(parents=True)
    (folder / "kubernetes" / "debug" / "pod.yaml").write_text("kind: Pod\n")
    (folder / "kubernetes" / "extra.yaml").write_text("kind: ConfigMap\n")
    (folder / "NOTES.md").write_text("ours, and nothing applies it\n")
    assert output.foreign_applied(dev, tmp_path) == ("kubernetes/debug/pod.yaml", "kubernetes/extra.yaml")
    vr.write(dev, tmp_path)  # a render carries them over untouched, and they stay foreign
    assert (folder / "kubernetes" / "extra.yaml").read_text() == "kind: ConfigMap\n"
    assert output.foreign_applied(dev, tmp_path) == ("kubernetes/debug/pod.yaml", "kubernetes/extra.yaml")


def test_a_listed_file_missing_on_disk_is_deleted_not_new(tmp_path, dev):
    vr.write(dev, tmp_path)
    (tmp_path / "dev" / "redis" / "redis.conf").unlink()
    assert [(d.path, d.status) for d in vr.diff(dev, tmp_path)] == [("redis/redis.conf", "deleted")]


KILLED_WRITER = """
import sys, time
import vitalyst_render as vr
import dataclasses
from vitalyst_render import output
result = vr.render(vr.load_profile("dev"))
changed = dataclasses.replace(result, files={**result.files, "compose/docker-compose.yml": b"changed: true\\n"})
real = output._write_file
def slow(path, data):
    real(path, data)
    print("wrote", flush=True)
    time.sleep(0.2)
output._write_file = slow
vr.write(changed, sys.argv[1])
"""


def test_sigkill_mid_write_leaves_the_old_tree(tmp_path, dev):
    import signal
    import subprocess
    import sys

    from .conftest import REPO

    vr.write(dev, tmp_path)
    before = snapshot(tmp_path / "dev")
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(tmp_path)],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    for _ in range(3):  # let it write a few files into its staging folder
        assert process.stdout.readline() == b"wrote\n"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)

    assert snapshot(tmp_path / "dev") == before
    vr.write(dev, tmp_path)  # the next render cleans the abandoned staging folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dev"]
    assert snapshot(tmp_path / "dev") == before


def test_editing_any_committed_file_is_drift_naming_that_file(tmp_path, dev):
    vr.write(dev, tmp_path)
    folder = tmp_path / "dev"
    for path in dev.files:
        target = folder / path
        original = target.read_bytes()
        target.write_bytes(original + b"\n")
        reported = [(d.path, d.status) for d in vr.diff(dev, tmp_path)]
        target.write_bytes(original)
        assert reported == [(path, "changed")], path


def test_targets_cannot_write_outside_the_profile_folder():
    from vitalyst_render.errors import TemplateError
    from vitalyst_render.rendering import check_output_path

    for bad in ["../escape.yml", "/etc/passwd", "a/../../b", "manifest.json", "a//b", "./a"]:
        with pytest.raises(TemplateError):
            check_output_path(bad)
    check_output_path("kubernetes/backend.yaml")


def test_manifest_entries_outside_the_folder_are_never_read(tmp_path, dev):
    vr.write(dev, tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("hunter2\n")
    manifest_path = tmp_path / "dev" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"].update({"../secret.txt": "x", str(secret): "x", "a/../../secret.txt": "x"})
    manifest_path.write_text(json.dumps(manifest))
    diffs = vr.diff(dev, tmp_path)
    assert [d.path for d in diffs] == ["manifest.json"]
    assert "hunter2" not in "".join(d.text for d in diffs)
    vr.write(dev, tmp_path)
    assert secret.read_text() == "hunter2\n"


def test_diff_does_not_follow_links_out_of_the_folder(tmp_path, dev):
    vr.write(dev, tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "docker-compose.yml").write_text("outside: true\n")
    compose = tmp_path / "dev" / "compose"
    shutil.rmtree(compose)
    os.symlink(outside, compose)
    diffs = {d.path: d for d in vr.diff(dev, tmp_path)}
    assert diffs["compose/docker-compose.yml"].status == "deleted"  # listed, and not a file inside the folder
    assert "outside: true" not in diffs["compose/docker-compose.yml"].text


def test_concurrent_writers_queue_instead_of_colliding(tmp_path, dev):
    from concurrent.futures import ThreadPoolExecutor

    variants = [
        dataclasses.replace(dev, files={**dev.files, "compose/docker-compose.yml": f"n: {i}\n".encode()})
        for i in range(6)
    ]
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda r: vr.write(r, tmp_path), variants))
    files = snapshot(tmp_path / "dev")
    assert files["compose/docker-compose.yml"] in {v.files["compose/docker-compose.yml"] for v in variants}
    assert set(files) == set(dev.files)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dev"]


def test_unwritable_out_is_an_artefact_error(tmp_path, dev):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    with pytest.raises(vr.ArtefactError, match="file system error"):
        vr.write(dev, blocker / "sub")


def test_the_staged_files_are_on_disk_before_the_swap(tmp_path, dev, monkeypatch):
    events = []
    real_fsync, real_syncfs, real_swap = os.fsync, output._syncfs, output._swap_in
    monkeypatch.setattr(output.os, "fsync", lambda fd: (events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}"))), real_fsync(fd))[1])
    monkeypatch.setattr(output, "_syncfs", lambda path: (events.append(("syncfs", str(path))), real_syncfs(path))[1])
    monkeypatch.setattr(output, "_swap_in", lambda staging, folder: (events.append(("swap", str(staging))), real_swap(staging, folder))[1])
    vr.write(dev, tmp_path)
    # Linux: one syncfs for the whole staged tree, then its folder, then the swap.
    assert [kind for kind, _ in events] == ["syncfs", "fsync", "swap"]
    # Without syncfs, each written file is fsynced before the swap.
    events.clear()
    monkeypatch.setattr(output, "_syncfs", lambda path: False)
    vr.write(dataclasses.replace(dev, files={**dev.files, "compose/docker-compose.yml": b"changed: true\n"}), tmp_path)
    synced = [path for kind, path in events if kind == "fsync"]
    staging = events[-1][1]
    assert [kind for kind, _ in events][-1] == "swap"
    assert sorted(synced[:-1]) == sorted(f"{staging}/{path}" for path in dev.files) and synced[-1] == staging
