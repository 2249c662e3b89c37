"""VR908: shellcheck checks every shell block of the rendered runbook and every script a
Kubernetes Job runs (``bash -c`` / ``sh -c``: the backup jobs and the Neo4j window)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from ._tools import run_tool
from .verdicts import VerdictCache
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


def job_scripts(ctx: CheckContext) -> list[tuple[str, str, Callable[[], Location]]]:
    """Each ``bash -c`` / ``sh -c`` script of a Job or CronJob container: (shell, the
    script as Kubernetes runs it, how to find the line before its first, for a finding)."""
    found: list[tuple[str, str, Callable[[], Location]]] = []
    for container in ctx.containers:
        if container.obj.kind not in ("Job", "CronJob"):
            continue
        command = container.container.get("command") or []
        if len(command) >= 3 and command[0] in _SHELLS and command[1] == "-c" and isinstance(command[2], str):
            script = command[2].replace("$$", "$")  # Kubernetes' own escape of $ in a command
            found.append((_SHELLS[command[0]], script, partial(container.obj.at, *container.path, "command", 2)))
    return found


def _comments(shell: str, files: dict[str, str], verdicts: VerdictCache | None = None) -> list[dict[str, object]] | None:
    """shellcheck's comments on ``files``, in the order of the files. shellcheck reads each
    file on its own (nothing is sourced) at some 100 KB a second, and a runbook of a
    thousand services holds megabytes: the files are shared out among one process per core."""
    groups = _shares(files, min(os.cpu_count() or 1, len(files)))
    with ThreadPoolExecutor(max_workers=len(groups)) as pool:
        answers = list(pool.map(lambda group: _run(shell, {name: files[name] for name in group}, verdicts), groups))
    if any(answer is None for answer in answers):
        return None
    order = {name: index for index, name in enumerate(files)}
    found = [comment for answer in answers for comment in answer or []]
    return sorted(found, key=lambda comment: order.get(str(comment.get("file")), len(order)))


def _run(shell: str, files: dict[str, str], verdicts: VerdictCache | None = None) -> list[dict[str, object]] | None:
    run = run_tool("shellcheck", [f"--shell={shell}", "--format=json1", "--severity=info", *files], files, verdicts=verdicts)
    try:
        comments = json.loads(run.output or "{}").get("comments", [])
    except ValueError:
        return None
    return list(comments)


def _shares(files: dict[str, str], count: int) -> list[list[str]]:
    """The file names in ``count`` groups of about the same size, each in file order."""
    groups: list[list[str]] = [[] for _ in range(max(count, 1))]
    sizes = [0] * len(groups)
    for name in sorted(files, key=lambda name: -len(files[name])):
        smallest = sizes.index(min(sizes))
        groups[smallest].append(name)
        sizes[smallest] += len(files[name])
    order = {name: index for index, name in enumerate(files)}
    return [sorted(group, key=order.__getitem__) for group in groups if group]


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
    runbook = ctx.artefacts.get(RUNBOOK)
    if runbook is not None:
        files = {f"block-{start}.sh": text for start, text in shell_blocks(runbook.text)}
        if files:
            comments = _comments("sh", files, ctx.verdicts)
            if comments is None:
                yield Problem("shellcheck did not answer in JSON", ctx.location(RUNBOOK))
                return
            for comment in comments:
                start = int(str(comment.get("file", "block-0.sh")).removeprefix("block-").removesuffix(".sh"))
                line = start + int(str(comment.get("line", 1))) - 1
                yield Problem(f"SC{comment.get('code')} ({comment.get('level')}): {comment.get('message')}",
                              ctx.location(RUNBOOK, line, int(str(comment.get("column", 0)))))
    scripts = job_scripts(ctx)
    for shell in sorted({shell for shell, _, _ in scripts}):
        mine = {f"script-{index}.sh": (text, where) for index, (dialect, text, where) in enumerate(scripts) if dialect == shell}
        comments = _comments(shell, {name: text for name, (text, _) in mine.items()}, ctx.verdicts)
        if comments is None:
            command_at = mine[next(iter(mine))][1]()
            yield Problem("shellcheck did not answer in JSON", Location(command_at.file, command_at.line + 1, 1))
            return
        for comment in comments:
            command_at = mine[str(comment.get("file"))][1]()  # the script starts on the next line
            yield Problem(f"SC{comment.get('code')} ({comment.get('level')}): {comment.get('message')}",
                          Location(command_at.file, command_at.line + int(str(comment.get("line", 1))), int(str(comment.get("column", 0)))))
