"""One error hierarchy for everything the pipeline can refuse.

Every error renders as a single line: ``file:line:col: field.path: message``.
The CLI maps :class:`RenderError` subclasses to exit code 2 (bad input) and never
shows a traceback for them.
"""

from __future__ import annotations

from dataclasses import dataclass

#: How many characters of an offending text a message quotes: a file that is not a
#: profile at all (a log, a binary, one long line) must not be echoed whole.
MAX_QUOTED = 80


def clipped(text: str, limit: int = MAX_QUOTED) -> str:
    """``text`` cut to ``limit`` characters, the cut marked with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Location:
    """A point in a source file. ``line`` and ``col`` are 1-based; 0 means unknown."""

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line and self.col:
            return f"{self.file}:{self.line}:{self.col}"
        if self.line:
            return f"{self.file}:{self.line}"
        return self.file


class RenderError(Exception):
    """Base class: a problem that stops the pipeline before anything is written."""

    def __init__(self, message: str, location: Location | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.location = location
        self.field = field

    def __str__(self) -> str:
        parts = []
        if self.location is not None:
            parts.append(str(self.location))
        if self.field:
            parts.append(clipped(self.field, MAX_QUOTED + 40))  # a key can be a whole line of the file
        parts.append(self.message)
        # Keep the contract of one line per error, whatever the message carries.
        return ": ".join(parts).replace("\r", "\\r").replace("\n", "\\n")


class ProfileError(RenderError):
    """The profile is unreadable, malformed YAML, or fails validation."""


class UsageError(RenderError):
    """The caller asked for something that does not exist (unknown profile, bad path)."""


class TemplateError(RenderError):
    """A template failed to render: a bug in vitalyst-render, reported at the template line."""


class ArtefactError(RenderError):
    """Writing or reading the output tree failed (foreign file in the way, unsafe path)."""
