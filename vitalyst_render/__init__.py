"""vitalyst-render: typed profiles in, validated deployment artefacts out.

The public API is four functions:

* :func:`load_profile` reads and validates a profile (by name or path);
* :func:`render` renders, parses back and checks every artefact, in memory;
* :func:`write` writes a render to ``out/<profile>/`` atomically;
* :func:`diff` compares a render with what is on disk.
"""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"

from .engine import Engine  # noqa: E402
from .errors import ArtefactError, Location, ProfileError, RenderError, TemplateError, UsageError  # noqa: E402
from .output import FileDiff, WriteSummary, diff, write  # noqa: E402
from .pipeline import Artefact, RenderResult, Report, render_profile  # noqa: E402
from .profile import LoadedProfile, Profile, load_profile, profile_names  # noqa: E402
from .resources import data_dir  # noqa: E402

_engines: dict[Path, Engine] = {}


def render(
    profile: LoadedProfile,
    *,
    out: str | Path = "out",
    checks: bool = True,
    strict_tools: bool = False,
    templates_dir: Path | None = None,
) -> RenderResult:
    """Render, parse back and check every artefact of ``profile``, in memory.

    ``out`` only shapes the paths that findings show (``out/prod/...``); nothing is
    written. The returned :class:`RenderResult` holds the files (including
    ``manifest.json``) and the check report.
    """
    folder = Path(templates_dir) if templates_dir else data_dir("templates")
    engine = _engines.get(folder)
    if engine is None:
        engine = _engines[folder] = Engine(folder)
    return render_profile(profile, engine, out_prefix=Path(out).as_posix(), run_checks=checks, strict_tools=strict_tools)


__all__ = [
    "Artefact",
    "ArtefactError",
    "FileDiff",
    "LoadedProfile",
    "Location",
    "Profile",
    "ProfileError",
    "RenderError",
    "RenderResult",
    "Report",
    "TemplateError",
    "UsageError",
    "WriteSummary",
    "__version__",
    "diff",
    "load_profile",
    "profile_names",
    "render",
    "write",
]
