"""Shared fixtures. Tests that need an external tool call :func:`require_tool`: it skips
with the reason on a developer machine and fails under CI, where every tool must exist."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PROFILES = REPO / "profiles"
OUT = REPO / "out"
SHARED = REPO.parent / "shared"


def pytest_configure(config):
    """One verdict cache for the whole session (the CLI runs in subprocesses share it
    through the environment), never the developer's own."""
    import tempfile

    from vitalyst_render.checks.verdicts import CACHE_ENV

    folder = tempfile.mkdtemp(prefix="vr-test-verdicts-")
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    os.environ[CACHE_ENV] = folder


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (make test installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def rendered():
    """Every committed profile rendered and checked once: {name: (Rendering, Report)}."""
    import vitalyst_render as vr

    result = {}
    for name in vr.profile_names():
        rendering = vr.render(vr.load_profile(name))
        result[name] = (rendering, vr.check(rendering))
    return result


@pytest.fixture
def profile_file(tmp_path):
    """Write a profile YAML (text) into tmp_path and return its path."""

    def make(text: str, name: str = "custom") -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return make
