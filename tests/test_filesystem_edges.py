"""Filesystem edges of issue 15 (classes 7 and 9), through the real CLI.

Profile files are opened without blocking and only when regular; every path error is
one line with exit 2; links inside ``out/`` are never followed; ``--out`` cannot be
empty; an error quotes at most a short piece of the offending line; killed writes'
staging folders are cleaned and reported; a swap keeps foreign folders and folder
modes; a closed stdout ends the command as it ends other Unix tools.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from vitalyst_render.cli import cli

from .conftest import PROFILES, REPO

ONE_LINE_ERROR = re.compile(r"^render: error: [^\n]+$")


def run(*args: str, cwd: Path, timeout: float = 60, stdout: int | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess; a hang fails the test instead of stalling the suite."""
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "vitalyst_render", *args],
        cwd=cwd,
        env=environment,
        stdout=subprocess.PIPE if stdout is None else stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
    )


def refused(result: subprocess.CompletedProcess[str], needle: str) -> str:
    """The one error line of a usage/input failure, after asserting its shape."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert ONE_LINE_ERROR.match(lines[0]), lines[0]
    assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def profiles(tmp_path: Path) -> Path:
    """A copy of the shipped profiles folder, to put odd things into."""
    folder = tmp_path / "profiles"
    shutil.copytree(PROFILES, folder)
    return folder


# -- class 7: profile files ---------------------------------------------------------------


def test_a_fifo_in_the_profiles_folder_hangs_nothing(tmp_path, profiles):
    os.mkfifo(profiles / "fifo.yaml")
    listed = run("--profiles-dir", str(profiles), "--list-profiles", cwd=tmp_path, timeout=30)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["dev", "fifo", "prod", "staging"]

    result = run("--profiles-dir", str(profiles), "--all", "--out", str(tmp_path / "out"), cwd=tmp_path, timeout=30)
    refused(result, "profiles/fifo.yaml: cannot read profile: is a FIFO, not a regular file")
    assert not (tmp_path / "out").exists()


def test_a_fifo_as_profile_file_values_file_or_image_lock_hangs_nothing(tmp_path, profiles):
    os.mkfifo(tmp_path / "pipe.yaml")
    result = run("--profile-file", "pipe.yaml", "--out", "out", cwd=tmp_path, timeout=30)
    refused(result, "pipe.yaml: cannot read profile: is a FIFO, not a regular file")
    result = run("--profile", "dev", "--values", "pipe.yaml", "--out", "out", cwd=tmp_path, timeout=30)
    refused(result, "pipe.yaml: cannot read values file: is a FIFO, not a regular file")
    (profiles / "prod.lock.yaml").unlink()
    os.mkfifo(profiles / "prod.lock.yaml")
    result = run("show", "--profiles-dir", str(profiles), "--profile", "prod", cwd=tmp_path, timeout=30)
    refused(result, "profiles/prod.lock.yaml: cannot read the image lock: is a FIFO, not a regular file")


def test_a_device_or_folder_named_like_a_profile_is_refused_for_what_it_is(tmp_path, profiles):
    os.symlink("/dev/zero", tmp_path / "zero.yaml")
    result = run("--profile-file", "zero.yaml", cwd=tmp_path, timeout=30)
    refused(result, "zero.yaml: cannot read profile: is a character device, not a regular file")
    (profiles / "folder.yaml").mkdir()
    result = run("--profiles-dir", str(profiles), "--profile", "folder", cwd=tmp_path, timeout=30)
    refused(result, "profiles/folder.yaml: cannot read profile: is a directory, not a regular file")


def test_a_symlink_loop_as_profile_file_is_one_line_exit_2(tmp_path, profiles):
    os.symlink("loop.yaml", profiles / "loop.yaml")
    result = run("--profile-file", str(profiles / "loop.yaml"), cwd=tmp_path)
    refused(result, "profiles/loop.yaml: cannot read profile: Too many levels of symbolic links (a symlink loop?)")
    result = run("--profiles-dir", str(profiles), "--profile", "loop", cwd=tmp_path)
    refused(result, "profiles/loop.yaml: cannot read profile: Too many levels of symbolic links")
    result = run("--profile", "dev", "--values", str(profiles / "loop.yaml"), cwd=tmp_path)
    refused(result, "profiles/loop.yaml: cannot read values file: Too many levels of symbolic links")


def test_a_symlink_loop_in_the_profiles_folder_is_listed_and_refused(tmp_path, profiles):
    os.symlink("loop.yaml", profiles / "loop.yaml")
    listed = run("--profiles-dir", str(profiles), "--list-profiles", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["dev", "loop", "prod", "staging"]
    result = run("--profiles-dir", str(profiles), "--all", "--out", "out", cwd=tmp_path)
    refused(result, "profiles/loop.yaml: cannot read profile: Too many levels of symbolic links")
    assert not (tmp_path / "out").exists()


def test_extends_and_image_lock_through_a_symlink_loop(tmp_path, profiles):
    (profiles / "base.yaml").unlink()
    os.symlink("base.yaml", profiles / "base.yaml")
    result = run("--profiles-dir", str(profiles), "--profile", "dev", cwd=tmp_path)
    refused(result, "profiles/base.yaml: cannot read profile: Too many levels of symbolic links")
    shutil.copy(PROFILES / "base.yaml", profiles / "base2.yaml")
    (profiles / "base.yaml").unlink()
    (profiles / "base2.yaml").rename(profiles / "base.yaml")
    (profiles / "prod.lock.yaml").unlink()
    os.symlink("prod.lock.yaml", profiles / "prod.lock.yaml")
    result = run("--profiles-dir", str(profiles), "--profile", "prod", "--check", cwd=tmp_path)
    refused(result, "profiles/prod.lock.yaml: cannot read the image lock: Too many levels of symbolic links")


def test_a_name_too_long_is_one_line_exit_2(tmp_path):
    long = "x" * 300
    result = run("--profile-file", f"{long}.yaml", cwd=tmp_path)
    line = refused(result, "cannot read profile: File name too long")
    assert len(line) < 300, line
    result = run("--profiles-dir", long, "--list-profiles", cwd=tmp_path)
    line = refused(result, "profiles folder not found")
    assert len(line) < 300, line
    result = run("--profiles-dir", long, "--profile", "dev", cwd=tmp_path)
    refused(result, "profiles folder not found")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_profile_file_is_one_line_exit_2(tmp_path):
    path = tmp_path / "locked.yaml"
    path.write_text("extends: dev\n")
    path.chmod(0)
    refused(run("--profile-file", "locked.yaml", cwd=tmp_path), "locked.yaml: cannot read profile: Permission denied")


# -- class 7: error messages quote little ------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        "x" * 5000 + "\n",  # one long line
        "".join(f"line {n} of some text that is not YAML at all\n" for n in range(300)),  # a text file
        "extends: " + "y" * 3000 + "\n",  # a long name
        "z" * 1000 + ": 1\n",  # a long key
        'extends: dev\nproject: "' + "\\x01" * 400 + '"\n',  # control characters, which escaping makes longer
    ],
    ids=["long-line", "text-file", "long-extends", "long-key", "control-characters"],
)
def test_an_error_quotes_at_most_a_short_piece_of_the_line(tmp_path, content):
    (tmp_path / "odd.yaml").write_text(content)
    result = run("--profile-file", "odd.yaml", cwd=tmp_path)
    line = refused(result, "odd.yaml:")
    assert "…" in line, line
    # Each quote of the file (a key can be quoted as the field and in the message) is short.
    longest = max(len(piece) for piece in re.split(r"[ '\"]", line))
    assert longest <= 125, line
    assert len(line) <= 400, line


# -- class 7: --out --------------------------------------------------------------------------


@pytest.mark.parametrize("out", ["", " ", "\t"])
def test_an_empty_out_is_a_usage_error(tmp_path, out):
    result = run("--profile", "dev", "--out", out, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--out" in result.stderr and "empty" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_empty_out_is_refused_by_deploy_too(tmp_path):
    result = run("deploy", "--profile", "dev", "--platform", "swarm", "--dry-run", "--out", "", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--out" in result.stderr and "empty" in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []


# -- class 7: links inside out/ are never followed ---------------------------------------------


@pytest.fixture
def rendered_dev(tmp_path: Path) -> Path:
    """out/ with dev rendered into it."""
    out = tmp_path / "out"
    result = run("--profile", "dev", "--out", str(out), cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_a_symlinked_manifest_is_never_followed(tmp_path, rendered_dev):
    folder = rendered_dev / "dev"
    (folder / "notes.txt").write_text("mine\n")
    # Elsewhere, a manifest that claims the foreign file: followed, it would be removed.
    decoy = tmp_path / "decoy.json"
    listed = json.loads((folder / "manifest.json").read_text())
    listed["files"]["notes.txt"] = "sha256:" + "0" * 64
    decoy.write_text(json.dumps(listed))
    decoy_bytes = decoy.read_bytes()
    (folder / "manifest.json").unlink()
    os.symlink(decoy, folder / "manifest.json")
    (folder / "compose" / "docker-compose.yml").write_text("edited: true\n")  # so that a write has work to do

    for extra in ((), ("--check",)):
        result = run("--profile", "dev", "--out", str(rendered_dev), *extra, cwd=tmp_path, timeout=300)
        line = refused(result, "manifest.json is a symbolic link")
        assert "never follows links" in line
    assert (folder / "notes.txt").read_text() == "mine\n"
    assert os.readlink(folder / "manifest.json") == str(decoy)
    assert decoy.read_bytes() == decoy_bytes


def test_a_listed_file_replaced_by_a_link_is_not_ours_to_replace(tmp_path, rendered_dev):
    compose = rendered_dev / "dev" / "compose" / "docker-compose.yml"
    target = tmp_path / "elsewhere.yml"
    target.write_text("someone else's\n")
    compose.unlink()
    os.symlink(target, compose)

    result = run("--profile", "dev", "--out", str(rendered_dev), cwd=tmp_path, timeout=300)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "refusing to overwrite 'compose/docker-compose.yml'" in result.stderr
    assert "symbolic link" in result.stderr
    assert os.readlink(compose) == str(target)
    assert target.read_text() == "someone else's\n"


# -- class 9: stale staging folders --------------------------------------------------------------


def test_stale_staging_folders_are_cleaned_at_the_start_of_a_write_and_reported(tmp_path, rendered_dev):
    for stale in (".dev.new-k1ll3d00", ".prod.new-abandon1"):
        (rendered_dev / stale / "compose").mkdir(parents=True)
        (rendered_dev / stale / "compose" / "docker-compose.yml").write_text("half\n")
    (rendered_dev / "dev" / "compose" / "docker-compose.yml").write_text("edited: true\n")

    result = run("--profile", "dev", "--out", str(rendered_dev), cwd=tmp_path, timeout=300)

    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in rendered_dev.iterdir()) == ["dev"]
    for stale in (".dev.new-k1ll3d00", ".prod.new-abandon1"):
        assert f"render: removed {rendered_dev.as_posix()}/{stale}, left by a render that was killed" in result.stderr


# -- class 9: the swap keeps foreign folders and folder modes --------------------------------------


def test_a_swap_keeps_foreign_folders_and_folder_modes(tmp_path, rendered_dev):
    folder = rendered_dev / "dev"
    (folder / "empty").mkdir()
    (folder / "docker" / "drafts").mkdir()
    (folder / "notes" / "deeper").mkdir(parents=True, mode=0o755)
    (folder / "notes" / "deeper").chmod(0o700)
    folder.chmod(0o750)
    (folder / "compose").chmod(0o711)
    (folder / "compose" / "docker-compose.yml").write_text("edited: true\n")  # the write swaps in a new tree

    result = run("--profile", "dev", "--out", str(rendered_dev), cwd=tmp_path, timeout=300)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "(1 written, 0 removed)" in result.stdout
    for kept in ("empty", "docker/drafts", "notes/deeper"):
        assert (folder / kept).is_dir(), kept
    modes = {name: (folder / name).stat().st_mode & 0o7777 for name in ("", "compose", "notes/deeper", "redis")}
    assert modes == {"": 0o750, "compose": 0o711, "notes/deeper": 0o700, "redis": 0o755}


def test_a_foreign_folder_where_the_render_puts_a_file_is_refused(tmp_path, rendered_dev):
    compose = rendered_dev / "dev" / "compose" / "docker-compose.yml"
    compose.unlink()
    compose.mkdir()
    result = run("--profile", "dev", "--out", str(rendered_dev), cwd=tmp_path, timeout=300)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "refusing to overwrite 'compose/docker-compose.yml'" in result.stderr
    assert compose.is_dir()


# -- class 9: a closed stdout --------------------------------------------------------------------


def _closed_pipe() -> int:
    """The write end of a pipe whose reader is gone: every write to it fails with EPIPE."""
    reader, writer = os.pipe()
    os.close(reader)
    return writer


def test_a_broken_pipe_dies_of_sigpipe_silently(tmp_path):
    writer = _closed_pipe()
    try:
        result = run("--list-checks", cwd=tmp_path, stdout=writer)
    finally:
        os.close(writer)
    assert result.returncode == -signal.SIGPIPE, (result.returncode, result.stderr)
    assert result.stderr == ""


def test_a_broken_pipe_under_check_dies_of_sigpipe_silently(tmp_path, rendered_dev):
    for path in (rendered_dev / "dev").rglob("*"):
        if path.is_file() and path.name != "manifest.json":
            path.write_text("drifted\n" * 200)
    writer = _closed_pipe()
    try:
        result = run("--profile", "dev", "--out", str(rendered_dev), "--check", cwd=tmp_path, stdout=writer, timeout=300)
    finally:
        os.close(writer)
    assert result.returncode == -signal.SIGPIPE, (result.returncode, result.stderr)
    assert result.stderr == ""


# -- class 9: a name given twice ---------------------------------------------------------------------


def test_a_repeated_profile_name_is_loaded_once(tmp_path, monkeypatch):
    from vitalyst_render.profile import loader

    loaded: list[object] = []
    real = loader.load_profile

    def counting(source, **kwargs):
        loaded.append(source)
        return real(source, **kwargs)

    monkeypatch.setattr(loader, "load_profile", counting)
    result = CliRunner().invoke(cli, ["-p", "dev", "-p", "dev", "--profile", "dev", "--stdout", "--only", "compose"])
    assert result.exit_code == 0, result.output
    assert loaded == ["dev"]
