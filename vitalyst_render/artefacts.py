"""Rendered files and their parsed form: the leaf every later stage shares.

An :class:`Artefact` is one rendered file, parsed back when its syntax allows. Targets
produce them, checks read them, and the writer writes their text; none of those needs to
import another to agree on this shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Literal

from . import dockerfile
from .errors import Location

if TYPE_CHECKING:
    from .yamlsource import Positions

#: How an artefact is parsed back after rendering.
ParseAs = Literal["yaml", "yaml-stream", "json", "dockerfile", "none"]

#: The file list every render adds; no target may write it.
MANIFEST = "manifest.json"

#: The top-level folders of ``out/<profile>/`` that ``--only`` selects, with what each holds.
GROUPS: dict[str, str] = {
    "kubernetes": "Kubernetes objects",
    "compose": "the compose or swarm stack file",
    "docker": "Dockerfiles and their ignore files",
    "prometheus": "Prometheus rules, their unit tests, its config and Alertmanager's",
    "grafana": "Grafana provisioning and dashboards",
    "redis": "redis.conf and the ACL templates",
    "docs": "the runbook and the topology diagram",
}


def group_of(path: str) -> str:
    """The top-level folder a rendered file belongs to (``kubernetes/backend.yaml``: ``kubernetes``)."""
    return path.split("/", 1)[0]


@dataclass(frozen=True)
class ParseFailure:
    """Why a rendered file did not parse: where in the output, and which template line made it."""

    message: str
    rendered: Location
    template: Location


@dataclass(frozen=True)
class Artefact:
    """One rendered file, parsed back when its syntax allows."""

    path: str
    text: str
    template: str
    syntax: str
    parse_as: ParseAs
    data: Any = None
    positions: Any = None  # Positions, or a list of them for a YAML stream
    parse_error: ParseFailure | None = None

    @property
    def parsed(self) -> bool:
        return self.parse_error is None and self.data is not None

    @property
    def documents(self) -> list[tuple[Any, Positions]]:
        """A YAML stream's (document, positions) pairs; empty when unparsed."""
        if self.parse_as != "yaml-stream" or self.parse_error is not None:
            return []
        return list(zip(self.data, self.positions))


#: Given a message and the rendered line and column, the template location that made it.
Blame = Callable[[str, int, int], ParseFailure]


def parse_artefact(artefact: Artefact, blame: Blame | None = None) -> Artefact:
    """``artefact`` with ``data`` and ``positions`` filled in, or with ``parse_error``."""
    # ruamel loads with the first parse, not with this module: the CLI builds --only from GROUPS.
    from .yamlsource import YamlSourceError, load_rendered, load_rendered_stream

    def failure(message: str, line: int, col: int) -> ParseFailure:
        if blame is not None:
            return blame(message, line, col)
        return ParseFailure(message, Location(artefact.path, line, col), Location(f"templates/{artefact.template}"))

    try:
        if artefact.parse_as == "yaml":
            data, positions = load_rendered(artefact.text, artefact.path)
            return replace(artefact, data=data, positions=positions)
        if artefact.parse_as == "yaml-stream":
            documents = load_rendered_stream(artefact.text, artefact.path)
            return replace(artefact, data=[d for d, _ in documents], positions=[p for _, p in documents])
        if artefact.parse_as == "json":
            return replace(artefact, data=json.loads(artefact.text))
        if artefact.parse_as == "dockerfile":
            return replace(artefact, data=dockerfile.parse(artefact.text))
    except YamlSourceError as exc:
        return replace(artefact, parse_error=failure(exc.message, exc.line, exc.col))
    except json.JSONDecodeError as exc:
        return replace(artefact, parse_error=failure(f"invalid JSON: {exc.msg}", exc.lineno, exc.colno))
    return artefact
