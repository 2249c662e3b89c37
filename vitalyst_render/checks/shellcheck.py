"""VR908: shellcheck checks every shell block of the rendered runbook and every script a
Kubernetes Job runs (``bash -c`` / ``sh -c``: the backup jobs and the Neo4j window)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from .base import Problem, Severity, check
from ..errors import Location
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
    Fail(
        "the Neo4j backup window's script leaves a command substitution unquoted, which word-splits",
        profile="staging",
        edits=[Edit("kubernetes/backups.yaml", 'until [ -z "$$(k get pods --selector "$$selector" -o name)" ]',
                    'until [ -z $$(k get pods --selector "$$selector" -o name) ]')],
        expect=[Expect("kubernetes/backups.yaml", "SC2046 (warning): Quote this to prevent word splitting.")],
    ),
    Pass("staging: every backup job's script and the window's pass shellcheck", profile="staging"),
)

_SHELLS = {"bash": "bash", "sh": "sh", "/bin/bash": "bash", "/bin/sh": "sh"}


def job_scripts(ctx: CheckContext) -> list[tuple[str, str, Location]]:
    """Each ``bash -c`` / ``sh -c`` script of a Job or CronJob container: (shell, the
    script as Kubernetes runs it, the location of its first line)."""
    found = []
    for container in ctx.containers:
        if container.obj.kind not in ("Job", "CronJob"):
            continue
        command = container.container.get("command") or []
        if len(command) >= 3 and command[0] in _SHELLS and command[1] == "-c" and isinstance(command[2], str):
            start = container.obj.at(*container.path, "command", 2)
            script = command[2].replace("$$", "$")  # Kubernetes' own escape of $ in a command
            found.append((_SHELLS[command[0]], script, Location(start.file, start.line + 1, 1)))
    return found


def _comments(ctx: CheckContext, shell: str, files: dict[str, str]) -> list[dict[str, object]] | None:
    run = ctx.run_tool("shellcheck", [f"--shell={shell}", "--format=json1", "--severity=info", *files], files)
    try:
        comments = json.loads(run.output or "{}").get("comments", [])
    except ValueError:
        return None
    return list(comments)


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


@check("VR908", "shellcheck", "shellcheck finds a problem in a runbook command or a job's script", Severity.WARNING,
       tool="shellcheck", examples=EXAMPLES)
def shellcheck_runbook(ctx: CheckContext) -> Iterable[Problem]:
    """``shellcheck --shell=sh`` reads every ``sh`` block of ``docs/RUNBOOK.md``, so the
    commands on-call pastes at 3 a.m. quote what they must and mean what they say; and
    every ``bash -c`` (or ``sh -c``) script of a Kubernetes Job or CronJob, as Kubernetes
    runs it (``$$`` read as ``$``), since a backup script that misquotes fails at night,
    unattended. Every finding points at the runbook or manifest line.

    Remediation: fix ``templates/docs/RUNBOOK.md.j2`` (every profile value in a command
    goes through ``|sh``) or the role's script.
    """
    # Each batch: (shell, files, where the batch's "did not answer" problem goes, placer).
    batches: list[tuple[str, dict[str, str], Location, Callable[[dict[str, object]], Location]]] = []
    runbook = ctx.artefacts.get(RUNBOOK)
    if runbook is not None:
        blocks = {f"block-{start}.sh": text for start, text in shell_blocks(runbook.text)}

        def in_runbook(comment: dict[str, object]) -> Location:
            start = int(str(comment.get("file", "block-0.sh")).removeprefix("block-").removesuffix(".sh"))
            return ctx.location(RUNBOOK, start + int(str(comment.get("line", 1))) - 1, int(str(comment.get("column", 0))))

        # shellcheck reads each file on its own, so a long runbook splits across cores.
        for part in _parts(blocks):
            batches.append(("sh", part, ctx.location(RUNBOOK), in_runbook))
    scripts = job_scripts(ctx)
    for shell in sorted({shell for shell, _, _ in scripts}):
        mine = {f"script-{index}.sh": (text, where) for index, (dialect, text, where) in enumerate(scripts) if dialect == shell}

        def in_manifest(comment: dict[str, object], mine: dict[str, tuple[str, Location]] = mine) -> Location:
            where = mine[str(comment.get("file"))][1]
            return Location(where.file, where.line + int(str(comment.get("line", 1))) - 1, int(str(comment.get("column", 0))))

        batches.append((shell, {name: text for name, (text, _) in mine.items()}, mine[next(iter(mine))][1], in_manifest))
    with ThreadPoolExecutor(max_workers=max(1, min(len(batches), os.cpu_count() or 1))) as pool:
        answers = list(pool.map(lambda batch: _comments(ctx, batch[0], batch[1]), batches))
    for (_, _, fallback, place), comments in zip(batches, answers):
        if comments is None:
            yield Problem("shellcheck did not answer in JSON", fallback)
            continue
        for comment in comments:
            yield Problem(f"SC{comment.get('code')} ({comment.get('level')}): {comment.get('message')}", place(comment))


#: Below this many files one shellcheck process is cheaper than two.
_SPLIT_FROM = 24


def _parts(files: dict[str, str]) -> list[dict[str, str]]:
    names = list(files)
    if not names:
        return []
    count = max(1, min(os.cpu_count() or 1, len(names) // _SPLIT_FROM))
    size = -(-len(names) // count)
    return [{name: files[name] for name in names[i:i + size]} for i in range(0, len(names), size)]
