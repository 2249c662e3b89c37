"""vitalyst-render: typed profiles in, validated deployment artefacts out.

The public API:

* :func:`load_profile` reads and validates a profile (by name or path);
* :func:`render` renders and parses back every artefact, in memory, running nothing;
* :func:`check` runs the checks and the external tool adapters over a rendering;
* :func:`write` writes a rendering to ``out/<profile>/`` atomically;
* :func:`diff` compares a rendering with what is on disk;
* :func:`redis_acl` fills in a Redis service's ACL file from its users' passwords.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ._lazy import lazy_exports
from ._version import __version__
from .errors import ArtefactError, Location, ProfileError, RenderError, TemplateError, UsageError

if TYPE_CHECKING:
    from .artefacts import Artefact
    from .checks import Finding, Report, Severity
    from .checks.context import CheckContext
    from .engine import Engine
    from .output import FileDiff, WriteSummary, diff, write
    from .profile.files import profile_names
    from .profile.loader import LoadedProfile, load_profile
    from .profile.models import Profile
    from .rendering import Rendering
    from .targets import Target
else:
    # Importing the package (and so the CLI) stays cheap: each name loads its module on first use.
    __getattr__, __dir__ = lazy_exports(__name__, {
        "Artefact": ".artefacts",
        "CheckContext": ".checks.context",
        "FileDiff": ".output",
        "Finding": ".checks",
        "LoadedProfile": ".profile.loader",
        "Profile": ".profile.models",
        "Rendering": ".rendering",
        "Report": ".checks",
        "Severity": ".checks",
        "WriteSummary": ".output",
        "diff": ".output",
        "load_profile": ".profile.loader",
        "profile_names": ".profile.files",
        "write": ".output",
    })

_engines: dict[tuple[Path, ...], Engine] = {}


def _engine(templates: str | Path | None, targets: tuple[Target, ...]) -> Engine:
    from .engine import Engine
    from .resources import data_dir

    bundled = data_dir("templates")
    search = [Path(templates)] if templates is not None else []
    search += [t.templates for t in targets if t.templates is not None]
    # Checked on every render, not only the first: a folder removed since is an error.
    if templates is not None and not Path(templates).is_dir():  # False, not an error, for a symlink loop
        raise UsageError(f"templates folder not found: {templates}")
    try:
        key = tuple(p.resolve() for p in [*search, bundled])
    except (OSError, RuntimeError) as error:  # a loop further down, or a name too long
        raise UsageError(f"cannot resolve the templates folder {templates}: {error}") from None
    # Kept for the process (compiling the templates costs more than a render); the
    # engine's loader re-reads a template whose file changed since (see engine.py).
    engine = _engines.get(key)
    if engine is None:
        engine = _engines.setdefault(key, Engine(key, bundled=bundled))
    return engine


def render(profile: LoadedProfile, *, out: str | Path = "out", templates: str | Path | None = None) -> Rendering:
    """Render and parse back every artefact of ``profile``, in memory.

    Runs no subprocess and writes nothing. ``out`` only shapes the paths that findings
    show (``out/prod/...``). ``templates`` is a folder searched before the bundled
    templates, so it overrides them one file at a time. The :class:`Rendering` holds
    the stack plan, the files (``manifest.json`` included) and the parsed artefacts;
    pass it to :func:`check`, :func:`write` or :func:`diff`.
    """
    from . import boundary
    from .rendering import render_profile
    from .targets import registry as target_registry

    profile = boundary.loaded_profile(profile, "render(): profile")
    out_path = boundary.path(out, "render(): out")
    templates = boundary.optional_path(templates, "render(): templates")
    targets = target_registry()
    return render_profile(profile, _engine(templates, targets), targets, out_prefix=out_path.as_posix())


def check(rendering: Rendering, *, tools: bool = True, strict_tools: bool = False, cache: bool = True) -> Report:
    """Run every registered check over ``rendering``.

    ``tools=False`` skips the adapters that run external programs (hadolint, promtool,
    amtool, redis-server, the Kubernetes schemas); each shows as skipped. Under
    ``strict_tools`` a missing tool is an error finding instead of a skip. A suppression
    naming an unknown check raises :class:`ProfileError`. ``cache=False`` runs every
    tool afresh instead of taking a verdict the same tool build gave on the same bytes
    from the cache (see :mod:`vitalyst_render.checks.verdicts`).
    """
    from . import boundary
    from .checks.context import CheckContext
    from .checks.runner import run_checks
    from .checks.verdicts import VerdictCache

    rendering = boundary.rendering(rendering, "check(): rendering")
    tools = boundary.flag(tools, "check(): tools")
    strict_tools = boundary.flag(strict_tools, "check(): strict_tools")
    cache = boundary.flag(cache, "check(): cache")
    verdicts = VerdictCache() if cache else None
    return run_checks(CheckContext.of(rendering, verdicts), tools=tools, strict_tools=strict_tools)


def redis_acl(profile: LoadedProfile, passwords: Mapping[str, str], service: str | None = None) -> str:
    """The ACL file of a redis service with each user's SHA-256 password hash.

    ``passwords`` maps every ACL user of the service to its password; ``service``
    may be omitted when the profile has one redis service. The text holds hashes
    only: pipe it into ``docker secret create`` rather than writing it anywhere.
    """
    from . import boundary
    from .roles.redis import RedisService, filled_acl

    profile = boundary.loaded_profile(profile, "redis_acl(): profile")
    passwords = boundary.str_mapping(passwords, "redis_acl(): passwords", "a mapping of user name to password (str to str)")
    if service is not None and not isinstance(service, str):
        raise boundary.refuse("redis_acl(): service", "a service name (str) or None", service)
    candidates = {name: spec for name, spec in profile.profile.services.items() if isinstance(spec, RedisService)}
    if service is None:
        if len(candidates) != 1:
            raise UsageError(f"profile {profile.name!r} has redis services {sorted(candidates)}: name one with --service")
        service = next(iter(candidates))
    if service not in candidates:
        raise UsageError(f"profile {profile.name!r} has no redis service {service!r}; its redis services: {', '.join(sorted(candidates)) or 'none'}")
    return filled_acl(service, candidates[service], passwords)


__all__ = [
    "Artefact",
    "ArtefactError",
    "CheckContext",
    "FileDiff",
    "Finding",
    "LoadedProfile",
    "Location",
    "Profile",
    "ProfileError",
    "RenderError",
    "Rendering",
    "Report",
    "Severity",
    "TemplateError",
    "UsageError",
    "WriteSummary",
    "__version__",
    "check",
    "diff",
    "load_profile",
    "profile_names",
    "redis_acl",
    "render",
    "write",
]
