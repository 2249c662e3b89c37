"""Profiles that must be refused (issue 12, items 7-12): each through the real CLI,
exit code 2, and one line naming ``file:line:col``, the field and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from vitalyst_render.cli import cli

PREFIX = "render: error: "


@pytest.fixture
def refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Render ``child.yaml`` (the given text) from tmp_path; return the one error line."""
    monkeypatch.chdir(tmp_path)

    def run(text: str) -> str:
        (tmp_path / "child.yaml").write_text(text, encoding="utf-8")
        result = CliRunner().invoke(cli, ["--profile-file", "child.yaml", "--out", str(tmp_path / "out")])
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        lines = result.output.splitlines()
        assert len(lines) == 1, result.output
        assert lines[0].startswith(PREFIX), lines[0]
        assert not (tmp_path / "out").exists()
        return lines[0][len(PREFIX):]

    return run


def at(text: str, needle: str, occurrence: int = 1) -> str:
    """``line:col`` of the ``occurrence``-th ``needle`` in ``text`` (1-based)."""
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"{line}:{col}"


# -- 7. requests larger than limits ------------------------------------------------------------


def test_memory_request_above_its_limit(refused):
    text = "extends: prod\nservices:\n  backend:\n    resources:\n      requests: {cpu: 500m, memory: 8Gi}\n"
    assert refused(text) == (
        f"child.yaml:{at(text, '8Gi')}: services.backend.resources.requests.memory: "
        "the request 8Gi exceeds the limit 4Gi (limits.memory); a request may be at most its limit"
    )


def test_cpu_request_above_its_limit_compares_quantities_not_spellings(refused):
    # 2500m is more than "2" (2000m) although "2500m" < "2" as text.
    text = "extends: prod\nservices:\n  backend:\n    resources:\n      requests: {cpu: 2500m, memory: 1Gi}\n"
    assert refused(text) == (
        f"child.yaml:{at(text, '2500m')}: services.backend.resources.requests.cpu: "
        "the request 2500m exceeds the limit 2 (limits.cpu); a request may be at most its limit"
    )


def test_binary_and_decimal_memory_units_compare_by_bytes(refused):
    # 1Gi is 1073741824 bytes, more than 1G (10^9).
    text = (
        "extends: prod\nservices:\n  redis:\n    resources:\n"
        "      requests: {cpu: 250m, memory: 1Gi}\n      limits: {cpu: '1', memory: 1G}\n"
    )
    assert refused(text) == (
        f"child.yaml:{at(text, '1Gi')}: services.redis.resources.requests.memory: "
        "the request 1Gi exceeds the limit 1G (limits.memory); a request may be at most its limit"
    )


def test_equal_requests_and_limits_load():
    from vitalyst_render.profile.models import Resources

    amounts = {"cpu": "1", "memory": "1Gi"}
    assert Resources.model_validate({"requests": {"cpu": "1000m", "memory": "1024Mi"}, "limits": amounts})
