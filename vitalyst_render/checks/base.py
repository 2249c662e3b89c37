"""Findings, severities and the check registry.

A check is a pure function over the rendered artefacts of one profile that yields
:class:`Problem` objects. The runner turns each into a :class:`Finding`, stamping the
check's stable ID and default severity (an adapter may carry a tool's own level).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Callable, Iterable

from ..errors import Location

if TYPE_CHECKING:
    from .context import CheckContext


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


@dataclass(frozen=True)
class Problem:
    """What a check reports; the runner adds the ID and severity."""

    message: str
    location: Location
    hint: str | None = None
    related: tuple[Location, ...] = ()
    severity: Severity | None = None


@dataclass(frozen=True)
class Finding:
    check_id: str
    severity: Severity
    message: str
    location: Location
    hint: str | None = None
    related: tuple[Location, ...] = ()

    def line(self) -> str:
        text = f"{self.location}: {self.severity.value} {self.check_id} {self.message}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text


@dataclass(frozen=True)
class Skip:
    check_id: str
    reason: str


@dataclass(frozen=True)
class Suppressed:
    check_id: str
    reason: str
    count: int


@dataclass(frozen=True)
class Report:
    """What the checks found in one render."""

    findings: tuple[Finding, ...] = ()
    skipped: tuple[Skip, ...] = ()
    suppressed: tuple[Suppressed, ...] = ()
    seconds: float = field(default=0.0, compare=False)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    @property
    def failed(self) -> bool:
        return self.count(Severity.ERROR) > 0


class ToolUnavailable(Exception):
    """Raised by an adapter whose external tool is missing; the check is skipped."""


CheckFunction = Callable[["CheckContext"], Iterable[Problem]]


@dataclass(frozen=True)
class Check:
    id: str
    name: str
    title: str
    severity: Severity
    function: CheckFunction = field(repr=False)
    tool: str | None = None

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.function.__doc__ or "")


_REGISTRY: dict[str, Check] = {}


def check(id: str, name: str, title: str, severity: Severity, *, tool: str | None = None) -> Callable[[CheckFunction], CheckFunction]:
    """Register ``function`` as a check. IDs are stable and never reused."""

    def register(function: CheckFunction) -> CheckFunction:
        if id in _REGISTRY:
            raise RuntimeError(f"check ID {id} registered twice")
        _REGISTRY[id] = Check(id, name, title, severity, function, tool)
        return function

    return register


def registry() -> dict[str, Check]:
    """Every registered check, by ID, in ID order."""
    from . import _load_all

    _load_all()
    return dict(sorted(_REGISTRY.items()))
