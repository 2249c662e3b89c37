"""What a target is: a named set of template jobs for one artefact kind, read off the plan."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..artefacts import ParseAs

if TYPE_CHECKING:
    from ..plan import StackPlan


@dataclass(frozen=True)
class Job:
    """Render ``template`` (relative to templates/) in ``syntax`` to ``path`` (relative to out/<profile>/)."""

    template: str
    path: str
    syntax: str
    parse_as: ParseAs
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """``jobs(plan, out)`` lists what to render; ``out`` is the output root, which only
    files that point at each other across the tree (compose → Dockerfile) use.
    ``templates`` is a folder of the target's own templates (a plugin's), searched after
    any override folder and before the bundled ones."""

    name: str
    description: str
    jobs: Callable[[StackPlan, str], list[Job]]
    templates: Path | None = None
