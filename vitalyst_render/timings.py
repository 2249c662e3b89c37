"""Where a render's time goes, phase by phase, for ``render --timings`` and the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

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
