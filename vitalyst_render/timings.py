"""Where a render's time goes, phase by phase, for ``render --timings`` and the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .checks.base import Report
    from .rendering import Rendering

Phases = tuple[tuple[str, float], ...]  # (phase, seconds), in the order the phases ran


class Stopwatch:
    """Adds up the seconds spent in each named phase; a phase may be entered many times."""

    def __init__(self) -> None:
        self._seconds: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self._seconds[name] = self._seconds.get(name, 0.0) + time.perf_counter() - started

    def phases(self) -> Phases:
        return tuple(self._seconds.items())


def timing_lines(rendering: Rendering, report: Report, settle: str, settle_seconds: float) -> list[str]:
    """``render --timings``: one profile's phases, then each check that took a
    millisecond or more, slowest first (checks run side by side, so theirs overlap)."""
    from .checks import registry

    names = {check.id: check.name for check in registry().values()}
    phases = [*rendering.loaded.phases, *rendering.phases, ("checks", report.seconds), (settle, settle_seconds)]
    lines = [f"timings {rendering.profile}: {sum(seconds for _, seconds in phases):.2f} s"]
    for phase, seconds in phases:
        lines.append(f"  {phase:<8} {_ms(seconds)}" + ("  (side by side; each below)" if phase == "checks" else ""))
        if phase == "checks":
            for check_id, spent in sorted(report.timings, key=lambda item: (-item[1], item[0])):
                if spent >= 0.001:
                    lines.append(f"    {check_id} {names.get(check_id, ''):<32} {_ms(spent)}")
    return lines


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.0f} ms"
