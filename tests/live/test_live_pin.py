"""``render pin`` against the testbed's real registry (Debian's docker-registry), through the CLI.

The live profile pins every image by writing its digest; here the same profile names
them by tag only, ``render pin`` asks the registry, and the lock-pinned render must
run exactly the images the live stack runs.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from vitalyst_render.profile.lock import read_lock

from .conftest import live_profile, render_cli

pytestmark = pytest.mark.live


def _without_digests(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_digests(v) for k, v in value.items() if k != "digest"}
    if isinstance(value, list):
        return [_without_digests(v) for v in value]
    return value


def _images(stack_file: str) -> list[str]:
    return sorted(set(re.findall(r'^\s+image: "([^"]+)"$', stack_file, re.M)))


def test_render_pin_writes_the_registrys_digests_and_the_render_with_them_validates(live, tmp_path):
    profile = _without_digests(live_profile(live.standins, live.apps))
    path = tmp_path / "pinned.yaml"
    path.write_text(json.dumps(profile, indent=2))

    result = render_cli("pin", "--profile-file", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    lock = read_lock(tmp_path / "pinned.lock.yaml")
    assert lock is not None and lock.unpinned is None
    pushed = {**{f"{p.repository}:{p.tag}": p.digest for p in live.standins.values()},
              **{f"{p.repository}:{p.tag}": p.digest for p in live.apps.values()}}
    assert lock.images == {reference: pushed[reference] for reference in lock.images}
    assert len(lock.images) == 7  # python, node, backend, frontend, neo4j, redis, redis-exporter

    rendered = render_cli("--profile-file", str(path), "--out", str(tmp_path / "out"), "--strict-tools")
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr
    assert "VR608" not in rendered.stdout
    stack = (tmp_path / "out" / "pinned" / "compose" / "docker-compose.yml").read_text()
    assert _images(stack) == _images(live.stack_file.read_text())
