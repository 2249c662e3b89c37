"""What every check sees: one render's profile and artefacts, with views parsed once.

Checks run side by side in threads over the same context; the views are pure
functions of the artefacts, so computing one twice in a race is harmless.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..artefacts import Artefact
from ..errors import Location
from ..profile.loader import LoadedProfile
from ..profile.models import Profile

if TYPE_CHECKING:
    from ..rendering import Rendering


@dataclass(frozen=True)
class CheckContext:
    """The profile and every artefact of one render. ``out_prefix`` is the profile's
    output folder as findings show it (``out/prod``)."""

    loaded: LoadedProfile
    artefacts: dict[str, Artefact]
    out_prefix: str

    @classmethod
    def of(cls, rendering: Rendering) -> CheckContext:
        return cls(rendering.loaded, rendering.artefacts, rendering.folder)

    @property
    def profile(self) -> Profile:
        return self.loaded.profile

    def location(self, path: str, line: int = 0, col: int = 0) -> Location:
        """A location in a rendered file, as users see it (``out/prod/...``)."""
        return Location(posixpath.join(self.out_prefix, path), line, col)

    def in_profile(self, *path: str | int) -> Location:
        """Where ``path`` is set in the profile's YAML (the file that set it, through extends)."""
        return self.loaded.positions.value(tuple(path))

    def of_syntax(self, *kinds: str) -> list[Artefact]:
        return [a for a in self.artefacts.values() if a.syntax in kinds]

    def parsed(self, parse_as: str) -> list[Artefact]:
        """Artefacts of one parse kind that parsed (unparsed ones are VR001's business)."""
        return [a for a in self.artefacts.values() if a.parse_as == parse_as and a.parsed]

    def artefact(self, path: str) -> Artefact | None:
        found = self.artefacts.get(path)
        return found if found is not None and found.parse_error is None else None
