"""What a target is: a named set of template jobs for one artefact kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from ..profile.loader import LoadedProfile

#: How an artefact is parsed back after rendering.
ParseAs = Literal["yaml", "yaml-stream", "json", "dockerfile", "none"]


@dataclass(frozen=True)
class Job:
    """Render ``template`` (relative to templates/) in ``syntax`` to ``path`` (relative to out/<profile>/)."""

    template: str
    path: str
    syntax: str
    parse_as: ParseAs
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """``jobs(profile, out)`` lists what to render; ``out`` is the output root, which
    only files that point at each other across the tree (compose → Dockerfile) use."""

    name: str
    description: str
    jobs: Callable[[LoadedProfile, str], list[Job]]
