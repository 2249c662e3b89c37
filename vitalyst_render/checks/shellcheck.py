"""VR908: shellcheck checks every shell block of the rendered runbook."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from ._tools import run_tool
from .base import Problem, Severity, check
from .context import CheckContext
from .examples import Edit, Expect, Fail, Pass

RUNBOOK = "docs/RUNBOOK.md"
_FENCE = re.compile(r"^(`{3,})(sh|bash|shell)\s*$")

EXAMPLES = (
    Fail(
        "a runbook command that leaves a command substitution unquoted, which word-splits",
        edits=[Edit(RUNBOOK, 'docker exec "$(docker ps --quiet --filter label=com.docker.swarm.service.name=vitalyst-prod_backend | head -n 1)"',
                    "docker exec $(docker ps --quiet --filter label=com.docker.swarm.service.name=vitalyst-prod_backend | head -n 1)")],
        expect=[Expect(RUNBOOK, "SC2046 (warning): Quote this to prevent word splitting.")],
    ),
    Pass("the dev runbook: compose commands only", profile="dev"),
)


def shell_blocks(text: str) -> list[tuple[int, str]]:
    """Each fenced sh block: (the line of its first command, its text)."""
    blocks, lines = [], text.split("\n")
    index = 0
    while index < len(lines):
        match = _FENCE.match(lines[index])
        if match is None:
            index += 1
            continue
        start, body = index + 2, []
        index += 1
        while index < len(lines) and lines[index] != match.group(1):
            body.append(lines[index])
            index += 1
        blocks.append((start, "\n".join(body) + "\n"))
        index += 1
    return blocks


@check("VR908", "shellcheck", "shellcheck finds a problem in a runbook command", Severity.WARNING, tool="shellcheck",
       examples=EXAMPLES)
def shellcheck_runbook(ctx: CheckContext) -> Iterable[Problem]:
    """``shellcheck --shell=sh`` reads every ``sh`` block of ``docs/RUNBOOK.md``, so the
    commands on-call pastes at 3 a.m. quote what they must and mean what they say.
    Every finding points at the runbook line.

    Remediation: fix ``templates/docs/RUNBOOK.md.j2``; every profile value in a command
    goes through ``|sh``.
    """
    runbook = ctx.artefacts.get(RUNBOOK)
    if runbook is None:
        return
    blocks = shell_blocks(runbook.text)
    files = {f"block-{start}.sh": text for start, text in blocks}
    if not files:
        return
    run = run_tool("shellcheck", ["--shell=sh", "--format=json1", "--severity=info", *files], files)
    try:
        comments = json.loads(run.output or "{}").get("comments", [])
    except ValueError:
        yield Problem(f"shellcheck did not answer in JSON: {run.lines()[:1]}", ctx.location(RUNBOOK))
        return
    for comment in comments:
        start = int(str(comment.get("file", "block-0.sh")).removeprefix("block-").removesuffix(".sh"))
        line = start + int(comment.get("line", 1)) - 1
        yield Problem(f"SC{comment.get('code')} ({comment.get('level')}): {comment.get('message')}",
                      ctx.location(RUNBOOK, line, int(comment.get("column", 0))))
