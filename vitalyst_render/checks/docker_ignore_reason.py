"""VR108: every inline hadolint ignore says why."""

from __future__ import annotations

import re
from typing import Iterable

from ._support import at
from .base import Problem, Severity, check

_IGNORE = re.compile(r"^\s*#\s*hadolint\s+ignore=", re.IGNORECASE)
_COMMENT = re.compile(r"^\s*#\s*\S")


@check("VR108", "docker-ignore-reason", "hadolint rule ignored without a reason", Severity.ERROR)
def ignore_reason(ctx) -> Iterable[Problem]:
    """An inline ``# hadolint ignore=DLxxxx`` silences a linter rule for the next
    instruction. It is allowed only with a comment on the line above that says why,
    so the next reader can judge whether the reason still holds.

    Remediation: add ``# why: …`` above the ignore, or fix the instruction.

    FAIL: ``# hadolint ignore=DL3008`` directly after an instruction.
    PASS: ``# the distro pins curl through the base image digest`` then ``# hadolint ignore=DL3008``.
    """
    for artefact in ctx.of_syntax("dockerfile"):
        lines = artefact.text.split("\n")
        for number, line in enumerate(lines, start=1):
            if not _IGNORE.match(line):
                continue
            above = lines[number - 2] if number > 1 else ""
            if not _COMMENT.match(above) or _IGNORE.match(above):
                yield Problem("hadolint ignore without a reason on the line above", at(ctx, artefact, number))
