"""Targets, one module per artefact kind, in render order, plus plugin targets.

An installed distribution adds targets through the ``vitalyst_render.targets``
entry-point group; each entry point names a :class:`Target`. Plugin targets render
after the built-in ones, so they may read every built-in file.
"""

from __future__ import annotations

from functools import cache

from ..entrypoints import load
from ..errors import UsageError
from . import compose, config, docker, docs, grafana, kubernetes, prometheus
from .base import Job, Target

# Order matters only in that a later job may use an earlier file: the compose stack
# names a service's config after that file's digest, and its ConfigMap carries it.
BUILT_IN: tuple[Target, ...] = (
    docker.TARGET,
    config.TARGET,
    compose.TARGET,
    kubernetes.TARGET,
    prometheus.TARGET,
    grafana.TARGET,
    docs.TARGET,
)
ENTRY_POINT_GROUP = "vitalyst_render.targets"


@cache
def registry(*, plugins: bool = True) -> tuple[Target, ...]:
    """Every target in render order: the built-in ones, then those of installed plugins."""
    targets = list(BUILT_IN)
    if plugins:
        for origin, target in load(ENTRY_POINT_GROUP):
            if not isinstance(target, Target):
                raise UsageError(f"plugin target {origin} is not a vitalyst_render Target")
            if any(t.name == target.name for t in targets):
                raise UsageError(f"plugin target {origin} is named {target.name!r}, which exists already")
            targets.append(target)
    return tuple(targets)


__all__ = ["BUILT_IN", "ENTRY_POINT_GROUP", "Job", "Target", "registry"]
