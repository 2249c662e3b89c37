"""Loading plugins: the entry points of installed distributions, in a stable order, with
a one-line error that names the plugin when one cannot be loaded."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import entry_points
from typing import Any

from .errors import UsageError


def load(group: str) -> Iterator[tuple[str, Any]]:
    """(origin, loaded object) of every entry point in ``group``; origin is the
    distribution's name. A plugin that fails to import is a usage error."""
    for point in sorted(entry_points(group=group), key=lambda p: (p.dist.name if p.dist else "", p.name)):
        origin = point.dist.name if point.dist is not None else point.name
        try:
            yield origin, point.load()
        except UsageError:
            raise
        except Exception as exc:  # any failure in a plugin's import must say which plugin
            raise UsageError(f"plugin {origin}: loading {point.value} ({group}) failed: {type(exc).__name__}: {exc}") from None
