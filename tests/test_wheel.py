"""The wheel carries templates, profiles and schemas: `pip install .` then `render`
works from any directory, with no source tree in sight."""

from __future__ import annotations

import os
import posixpath
import re
import subprocess
import sys
import zipfile

import pytest

from .conftest import OUT, REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(dist), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (path,) = dist.glob("vitalyst_render-*.whl")
    return path


def test_wheel_ships_data_and_marker(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "vitalyst_render/py.typed" in names
    assert "vitalyst_render/_data/profiles/prod.yaml" in names
    assert "vitalyst_render/_data/templates/compose/docker-compose.yml.j2" in names
    assert any(n.startswith("vitalyst_render/_data/schemas/") for n in names) or not any((REPO / "schemas").iterdir())
    assert any(n.endswith("entry_points.txt") for n in names)


def test_wheel_profiles_find_their_editor_schema(wheel):
    """The modeline's relative $schema names the shipped editor schema in the installed layout too."""
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    profiles = sorted(n for n in names if re.fullmatch(r"vitalyst_render/_data/profiles/[a-z0-9-]+\.yaml", n))
    assert "vitalyst_render/_data/profiles/prod.yaml" in profiles
    for name in profiles:
        first = archive.read(name).decode("utf-8").splitlines()[0]
        target = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first).group(1)
        assert posixpath.normpath(posixpath.join(posixpath.dirname(name), target)) == "vitalyst_render/_data/schemas/profile.schema.json"
    assert "vitalyst_render/_data/schemas/profile.schema.json" in names


def test_installed_wheel_renders_outside_the_repo(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    # Only the installed copy and the runtime dependencies are importable, not the repo.
    deps = [p for p in sys.path if p.endswith("site-packages")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), *deps])}
    env.pop("PYTHONHOME", None)
    probe = subprocess.run(
        [sys.executable, "-c", "import vitalyst_render, sys; print(vitalyst_render.__file__)"],
        cwd=work, env=env, capture_output=True, text=True, check=True,
    )
    assert probe.stdout.startswith(str(target))
    result = subprocess.run(
        [sys.executable, "-m", "vitalyst_render", "--profile", "prod"], cwd=work, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    rendered = {p.relative_to(work / "out" / "prod").as_posix(): p.read_bytes() for p in (work / "out" / "prod").rglob("*") if p.is_file()}
    committed = {p.relative_to(OUT / "prod").as_posix(): p.read_bytes() for p in (OUT / "prod").rglob("*") if p.is_file()}
    assert rendered == committed
