"""mypy --strict is clean on the package (settings in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys

from .conftest import REPO


def test_mypy_strict_is_clean():
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "vitalyst_render"], capture_output=True, text=True,
                          cwd=REPO, timeout=600)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
