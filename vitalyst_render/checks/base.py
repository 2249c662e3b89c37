"""Findings, severities and the check registry.

A check is a pure function over the rendered artefacts of one profile that yields
:class:`Problem` objects. The runner turns each into a :class:`Finding`, stamping the
check's stable ID and default severity (an adapter may carry a tool's own level).
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Callable, Iterable

from .._version import DOCS_URL
from ..errors import Location, UsageError
from .examples import Example

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
    """A profile's ``checks.suppress`` entry and the findings it silenced: every report
    shows them, marked as suppressed, so silencing a check never hides what it saw."""

    check_id: str
    reason: str
    findings: tuple[Finding, ...] = ()
    #: Where the profile suppresses it (``checks.suppress[i].id``).
    location: Location | None = None

    @property
    def count(self) -> int:
        return len(self.findings)


@dataclass(frozen=True)
class Report:
    """What the checks found in one render."""

    findings: tuple[Finding, ...] = ()
    skipped: tuple[Skip, ...] = ()
    suppressed: tuple[Suppressed, ...] = ()
    seconds: float = field(default=0.0, compare=False)
    #: (check ID, seconds) for every check, in registry order; checks run side by side,
    #: so these add up to more than ``seconds``.
    timings: tuple[tuple[str, float], ...] = field(default=(), compare=False)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    @property
    def failed(self) -> bool:
        return self.count(Severity.ERROR) > 0


class ToolUnavailable(Exception):
    """Raised by an adapter whose external tool is missing; the check is skipped."""


CheckFunction = Callable[["CheckContext"], Iterable[Problem]]

#: The origin of the checks that ship with vitalyst-render.
BUILT_IN = "vitalyst-render"
BUILT_IN_ID = re.compile(r"^VR[0-9]{3}$")
#: A plugin's checks use a prefix of their own: two to six capitals, never VR.
PLUGIN_ID = re.compile(r"^(?!VR)[A-Z]{2,6}[0-9]{3}$")


@dataclass(frozen=True)
class Check:
    id: str
    name: str
    title: str
    severity: Severity
    function: CheckFunction = field(repr=False)
    tool: str | None = None
    examples: tuple[Example, ...] = field(default=(), repr=False)
    origin: str = BUILT_IN
    #: Where the check is documented: our checks' reference, or what a plugin gives.
    help_uri: str | None = None

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.function.__doc__ or "")

    @property
    def fail_examples(self) -> tuple[Example, ...]:
        return tuple(e for e in self.examples if e.verdict == "fail")

    @property
    def pass_examples(self) -> tuple[Example, ...]:
        return tuple(e for e in self.examples if e.verdict == "pass")


class RegistryError(Exception):
    """A check that cannot be registered: a taken ID, or an ID outside its prefix."""


_REGISTRY: dict[str, Check] = {}
_lock = threading.Lock()


def check(
    id: str,
    name: str,
    title: str,
    severity: Severity,
    *,
    tool: str | None = None,
    examples: Sequence[Example] = (),
    help_uri: str | None = None,
) -> Callable[[CheckFunction], CheckFunction]:
    """Register ``function`` as a check. IDs are stable and never reused.

    ``tool`` names the external program an adapter runs (a missing one is a skip);
    ``examples`` are the check's PASS and FAIL cases (:mod:`.examples`). Checks of
    vitalyst-render use ``VRnnn``; a plugin's use a prefix of their own. ``help_uri``
    is a plugin's page for the check (SARIF's ``helpUri``); ours link to ``docs/checks.md``.
    """

    def register(function: CheckFunction) -> CheckFunction:
        ours = function.__module__.startswith("vitalyst_render.")
        pattern = BUILT_IN_ID if ours else PLUGIN_ID
        if not pattern.fullmatch(id):
            expected = "VRnnn" if ours else "two to six capitals other than VR, then three digits (e.g. ACME001)"
            raise RegistryError(f"check ID {id!r} of {function.__module__} must be {expected}")
        with _lock:
            if id in _REGISTRY:
                raise RegistryError(f"check ID {id} of {function.__module__} is registered already, by {_REGISTRY[id].function.__module__}")
            link = help_uri or (f"{DOCS_URL}/checks.md#{id.lower()}" if ours else None)
            _REGISTRY[id] = Check(id, name, title, severity, function, tool, tuple(examples), help_uri=link)
        return function

    return register


def _adopt(origin: str, before: set[str]) -> None:
    """Mark the checks registered since ``before`` as ``origin``'s."""
    with _lock:
        for check_id in set(_REGISTRY) - before:
            _REGISTRY[check_id] = dataclasses.replace(_REGISTRY[check_id], origin=origin)


def registry() -> dict[str, Check]:
    """Every registered check, by ID, in ID order."""
    from . import _load_all

    _load_all()
    return dict(sorted(_REGISTRY.items()))


def find_check(query: str) -> Check:
    """The check named by ``query``: its ID in any case (``vr103``), or its name."""
    checks = registry()
    wanted = query.strip()
    by_name = {c.name: c for c in checks.values()}
    found = checks.get(wanted.upper()) or by_name.get(wanted.lower())
    if found is not None:
        return found
    # A truncated ID (VR10) is a prefix of the ones meant; anything else is a typo.
    close = [i for i in checks if wanted and i.startswith(wanted.upper())][:3] or difflib.get_close_matches(wanted.upper(), list(checks), n=1)
    close = close or difflib.get_close_matches(wanted.lower(), list(by_name), n=1)
    guess = f"; did you mean {' or '.join(close)}?" if close else ""
    raise UsageError(f"unknown check {query!r}{guess} (render --list-checks lists them)")
