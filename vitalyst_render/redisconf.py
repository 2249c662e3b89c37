"""redis.conf as Redis 7.0 reads it: one directive per line, arguments split the way
sdssplitargs splits them (double quotes with escapes, single quotes literal)."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Directive:
    name: str  # lower case
    arguments: tuple[str, ...]
    line: int


class ConfSyntaxError(ValueError):
    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


def split_arguments(text: str, line: int) -> list[str]:
    words: list[str] = []
    i = 0
    while i < len(text):
        if text[i] in " \t":
            i += 1
            continue
        word = []
        if text[i] == '"':
            i += 1
            while True:
                if i >= len(text):
                    raise ConfSyntaxError("unbalanced double quote", line)
                char = text[i]
                if char == "\\" and i + 1 < len(text):
                    nxt = text[i + 1]
                    if nxt == "x" and re.match(r"[0-9a-fA-F]{2}", text[i + 2 : i + 4]):
                        word.append(chr(int(text[i + 2 : i + 4], 16)))
                        i += 4
                        continue
                    word.append({"n": "\n", "r": "\r", "t": "\t", "b": "\b", "a": "\a"}.get(nxt, nxt))
                    i += 2
                    continue
                if char == '"':
                    i += 1
                    break
                word.append(char)
                i += 1
        elif text[i] == "'":
            end = text.find("'", i + 1)
            if end < 0:
                raise ConfSyntaxError("unbalanced single quote", line)
            word.append(text[i + 1 : end])
            i = end + 1
        else:
            while i < len(text) and text[i] not in " \t":
                word.append(text[i])
                i += 1
        if i < len(text) and text[i] not in " \t":
            raise ConfSyntaxError("closing quote must be followed by a space", line)
        words.append("".join(word))
    return words


def parse(text: str) -> list[Directive]:
    directives = []
    for number, raw in enumerate(text.split("\n"), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        words = split_arguments(stripped, number)
        directives.append(Directive(words[0].lower(), tuple(words[1:]), number))
    return directives


_MEMORY = re.compile(r"^(\d+)(b|k|kb|m|mb|g|gb)?$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}


def memory(value: str) -> int | None:
    """Bytes of a redis.conf memory value (1k = 1000, 1kb = 1024), or None."""
    match = _MEMORY.match(value)
    if match is None:
        return None
    return int(match.group(1)) * _UNITS[(match.group(2) or "").lower()]
