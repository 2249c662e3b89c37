"""Checking several renderings at once, one worker process per core.

The checks of one render are partly Python (the cross-artefact checks, PromQL, the
schemas) and partly waiting on external tools. Threads overlap the waiting but not the
Python, which holds the interpreter lock, so renders of several profiles are checked in
forked worker processes: they inherit the renderings (made by the parent, which needs them
to write) and send back only their reports. Where ``fork`` is not available, or for one
rendering, the checks run in this process, side by side in threads.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from ..rendering import Rendering
from .base import Report
from .context import CheckContext
from .runner import run_checks
from .verdicts import VerdictCache

# What the forked workers check: set by the parent just before it forks them.
_PENDING: tuple[Sequence[Rendering], bool, bool] | None = None


def _check_pending(index: int) -> Report:
    assert _PENDING is not None
    renderings, strict_tools, cache = _PENDING
    return _check(renderings[index], strict_tools, cache)


def _check(rendering: Rendering, strict_tools: bool, cache: bool) -> Report:
    return run_checks(CheckContext.of(rendering, VerdictCache() if cache else None), strict_tools=strict_tools)


def check_renderings(renderings: Sequence[Rendering], *, strict_tools: bool = False, cache: bool = True,
                     workers: int | None = None) -> list[Report]:
    """The report of each rendering, in order: what :func:`vitalyst_render.check` gives
    for each, computed on up to ``workers`` cores (default: all of them)."""
    global _PENDING
    workers = min(len(renderings), workers or os.cpu_count() or 1)
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        with ThreadPoolExecutor(max_workers=max(1, min(len(renderings), 3))) as threads:
            return list(threads.map(lambda rendering: _check(rendering, strict_tools, cache), renderings))
    _PENDING = (renderings, strict_tools, cache)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
            return list(pool.map(_check_pending, range(len(renderings))))
    finally:
        _PENDING = None
