"""VR108: every inline hadolint ignore says why."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ._support import at
from .base import Problem, Severity, check
from .context import CheckContext
from .examples import Edit, Expect, Fail, Pass

_IGNORE = re.compile(r"^\s*#\s*hadolint\s+ignore=", re.IGNORECASE)
_COMMENT = re.compile(r"^\s*#\s*\S")

_VENV = "RUN python -m venv /opt/venv"

EXAMPLES = (
    Fail(
        "an ignore directly after an instruction, with no reason above it",
        edits=[Edit("docker/backend/Dockerfile", _VENV, f"# hadolint ignore=DL3013\n{_VENV}")],
        expect=[Expect("docker/backend/Dockerfile", "hadolint ignore without a reason on the line above")],
    ),
    Fail(
        "two stacked ignores: another ignore is no reason",
        edits=[Edit("docker/backend/Dockerfile", _VENV,
                    f"# pins live in requirements.txt\n# hadolint ignore=DL3013\n# hadolint ignore=DL3042\n{_VENV}")],
        expect=[Expect("docker/backend/Dockerfile", "hadolint ignore without a reason on the line above")],
    ),
    Pass(
        "an ignore with a comment above that says why",
        edits=[Edit("docker/backend/Dockerfile", _VENV,
                    f"# versions are pinned in requirements.txt, which hadolint cannot see\n# hadolint ignore=DL3013\n{_VENV}")],
    ),
)


@check("VR108", "docker-ignore-reason", "hadolint rule ignored without a reason", Severity.ERROR, examples=EXAMPLES)
def ignore_reason(ctx: CheckContext) -> Iterable[Problem]:
    """An inline ``# hadolint ignore=DLxxxx`` silences a linter rule for the next
    instruction. It is allowed only with a comment on the line above that says why,
    so the next reader can judge whether the reason still holds.

    Remediation: add ``# why: …`` above the ignore, or fix the instruction.
    """
    for artefact in ctx.of_syntax("dockerfile"):
        lines = artefact.text.split("\n")
        for number, line in enumerate(lines, start=1):
            if not _IGNORE.match(line):
                continue
            above = lines[number - 2] if number > 1 else ""
            if not _COMMENT.match(above) or _IGNORE.match(above):
                yield Problem("hadolint ignore without a reason on the line above", at(ctx, artefact, number))
