"""A small Dockerfile reader: instructions with line numbers, grouped into stages.

Enough for our checks (and for any Dockerfile, not only ours): line continuations,
comments inside continued instructions, parser directives, and exec-form (JSON)
arguments. It does not evaluate ARG or ENV substitution.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

_CONTINUATION = re.compile(r"\\\s*$")
_HEREDOC = re.compile(r"<<(-?)[\"']?([A-Za-z_][A-Za-z0-9_]*)[\"']?")


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, USER, ...
    arguments: str  # everything after the keyword, continuations joined by spaces
    line: int  # 1-based line where the instruction starts

    @property
    def exec_form(self) -> list[str] | None:
        """The argument vector when written as a JSON array, else None."""
        text = self.arguments.strip()
        if not text.startswith("["):
            return None
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            return None
        return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None

    def flags_and_rest(self) -> tuple[dict[str, str], str]:
        """Leading ``--flag=value`` options (FROM --platform, COPY --from, HEALTHCHECK --interval)."""
        flags: dict[str, str] = {}
        rest = self.arguments.strip()
        while rest.startswith("--"):
            token, _, rest = rest.partition(" ")
            name, _, value = token[2:].partition("=")
            flags[name] = value
            rest = rest.strip()
        return flags, rest


@dataclass(frozen=True)
class Stage:
    image: str  # what FROM names: an image reference or an earlier stage
    name: str | None  # the AS alias
    line: int
    instructions: tuple[Instruction, ...] = field(default=())

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None


@dataclass(frozen=True)
class Dockerfile:
    instructions: tuple[Instruction, ...]
    stages: tuple[Stage, ...]
    arguments: dict[str, str] = field(default_factory=dict)  # ARG defaults declared before the first FROM

    @property
    def final(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    def named_image(self, stage: Stage) -> str:
        """What the stage's FROM names, with ARG defaults substituted."""
        return _substitute(stage.image, self.arguments)

    def image_of(self, stage: Stage) -> str:
        """The image a stage really starts from: ARG defaults substituted, and earlier
        stages followed back to their own base."""
        image = _substitute(stage.image, self.arguments)
        seen = {id(stage)}
        while True:
            parent = next((s for s in self.stages if s.name and s.name.lower() == image.lower() and id(s) not in seen), None)
            if parent is None:
                return image
            seen.add(id(parent))
            image = _substitute(parent.image, self.arguments)


def parse(text: str) -> Dockerfile:
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    heredoc: tuple[str, bool] | None = None  # (delimiter, strip leading tabs)
    for number, raw in enumerate(text.splitlines(), start=1):
        if heredoc is not None:
            # A heredoc body belongs to the instruction that opened it, verbatim.
            delimiter, strip_tabs = heredoc
            line = raw.lstrip("\t") if strip_tabs else raw
            if line == delimiter:
                heredoc = None
                instructions.append(_instruction(" ".join(pending), start))
                pending = []
            else:
                pending.append(raw)
            continue
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue  # blank lines, comments and parser directives
        if pending and stripped.startswith("#"):
            continue  # comments may sit inside a continued instruction
        if not pending:
            start = number
        if _CONTINUATION.search(raw):
            pending.append(_CONTINUATION.sub("", raw).strip())
            continue
        pending.append(stripped)
        opened = _HEREDOC.search(stripped) if not stripped.startswith("#") else None
        if opened:
            heredoc = (opened.group(2), opened.group(1) == "-")
            continue
        instructions.append(_instruction(" ".join(p for p in pending if p), start))
        pending = []
    if pending:
        instructions.append(_instruction(" ".join(p for p in pending if p), start))
    return Dockerfile(tuple(instructions), _stages(instructions), _global_arguments(instructions))


def _global_arguments(instructions: list[Instruction]) -> dict[str, str]:
    found: dict[str, str] = {}
    for instruction in instructions:
        if instruction.keyword == "FROM":
            break
        if instruction.keyword == "ARG":
            name, _, default = instruction.arguments.partition("=")
            found[name.strip()] = default.strip().strip('"')
    return found


def _substitute(text: str, arguments: dict[str, str]) -> str:
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: arguments.get(m.group(1), m.group(0)), text)


def _instruction(text: str, line: int) -> Instruction:
    keyword, _, arguments = text.partition(" ")
    return Instruction(keyword.upper(), arguments.strip(), line)


def _stages(instructions: list[Instruction]) -> tuple[Stage, ...]:
    stages: list[Stage] = []
    current: list[Instruction] = []
    head: Instruction | None = None
    for instruction in instructions:
        if instruction.keyword == "FROM":
            if head is not None:
                stages.append(_stage(head, current))
            head, current = instruction, []
        elif head is not None:
            current.append(instruction)
    if head is not None:
        stages.append(_stage(head, current))
    return tuple(stages)


def _stage(head: Instruction, body: list[Instruction]) -> Stage:
    _, rest = head.flags_and_rest()
    words = rest.split()
    image = words[0] if words else ""
    name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
    return Stage(image, name, head.line, tuple(body))


def shell_words(text: str) -> list[str]:
    """Words of a shell-form command, tolerant of unbalanced quotes."""
    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError:
        return text.split()
