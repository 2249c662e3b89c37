"""Finding profiles by name and reading their files, without the models.

The search path, the profile names on it and the strict, position-keeping YAML read
need neither pydantic nor the roles, so ``render --list-profiles`` and the shell
completion of ``--profile`` stay quick; :mod:`.loader` validates what they find.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import Location, ProfileError, UsageError
from ..resources import data_dir
from ..yamlsource import Positions, YamlSourceError, decode_utf8, load_yaml
from ..errors import clipped
from .scalars import DNS_LABEL, named, shown

#: Profiles are small; refuse anything that is clearly not one.
MAX_PROFILE_BYTES = 1 << 20


def resolved(path: Path) -> Path:
    """``path`` with its links resolved, for telling files apart; never raises. A path
    that cannot be resolved (a symlink loop, a name too long) is made absolute only:
    reading it fails, and that is where the error is worded."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop, before Python 3.13
        return Path(os.path.abspath(path))


def display_path(path: Path) -> str:
    """Paths in messages: relative to the working directory when below it."""
    try:
        return str(resolved(path).relative_to(resolved(Path.cwd())))
    except (ValueError, OSError):
        return str(path)


def profile_search_path(profiles_dir: Path | None = None) -> tuple[Path, ...]:
    """Where profile names resolve, in order: ``profiles_dir`` alone when given; else
    ``./profiles`` of the working directory (when there is one), then the bundled profiles."""
    if profiles_dir is not None:
        return (Path(profiles_dir),)
    bundled = data_dir("profiles")
    local = Path.cwd() / "profiles"
    if local.is_dir() and local.resolve() != bundled.resolve():
        return (local, bundled)
    return (bundled,)


def profile_files(search: Sequence[Path]) -> dict[str, Path]:
    """Every profile name of the search path with its file; the first folder wins a name."""
    found: dict[str, Path] = {}
    for folder in search:
        for path in sorted(folder.glob("*.yaml")):
            if re.fullmatch(DNS_LABEL, path.stem):
                found.setdefault(path.stem, path)
    return found


def profile_names(profiles_dir: Path | None = None, *, include_abstract: bool = False) -> list[str]:
    """Names of the profiles on the search path (see :func:`profile_search_path`): those
    of the first folder first, each name once; abstract ones only when asked."""
    from .. import boundary

    profiles_dir = boundary.optional_path(profiles_dir, "profile_names(): profiles_dir")
    include_abstract = boundary.flag(include_abstract, "profile_names(): include_abstract")
    named = profile_files(profile_search_path(profiles_dir))
    return [name for name, path in named.items() if include_abstract or not _is_abstract(path)]


def _is_abstract(path: Path) -> bool:
    try:
        data, _ = read_mapping(path)
    except (ProfileError, UsageError):
        return False  # a broken profile is listed, so that rendering it reports why
    return data.get("abstract") is True


def _searched(search: Sequence[Path]) -> str:
    return ", then ".join(display_path(folder) for folder in search)


def profile_path(name: str, profiles_dir: Path | None = None) -> Path:
    """The file of the profile ``name``: the first on the search path."""
    if not re.fullmatch(DNS_LABEL, name):
        raise UsageError(f"invalid profile name {named(name)}: expected a DNS-1123 label")
    search = profile_search_path(profiles_dir)
    path = profile_files(search).get(name)
    if path is None:
        known = ", ".join(profile_names(profiles_dir)) or "none"
        raise UsageError(f"unknown profile {named(name)} (known: {known}); looked in {_searched(search)}")
    return path


def read_yaml_file(path: Path, what: str, max_bytes: int = MAX_PROFILE_BYTES) -> tuple[Any, Positions]:
    """A profile-side YAML file (a profile, an image lock), strictly parsed, with positions;
    each way it can fail is a placed one-line error."""
    shown_path = display_path(path)
    raw = read_regular(path, what, max_bytes)
    if len(raw) > max_bytes:
        raise ProfileError(f"{what} is larger than {max_bytes} bytes", Location(shown_path, 1, 1))
    try:
        return load_yaml(decode_utf8(raw), shown_path)
    except YamlSourceError as exc:
        raise ProfileError(exc.message, Location(shown_path, exc.line, exc.col)) from None


#: What a file that is not a regular file is, by its type (for "is a FIFO, not a regular file").
_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _FILE_KINDS if test(mode)), "not a file")


def _reason(exc: OSError) -> str:
    """An OS error in the words of a one-line message."""
    text = exc.strerror or str(exc)
    return f"{text} (a symlink loop?)" if exc.errno == errno.ELOOP else text


def read_regular(path: Path, what: str, max_bytes: int) -> bytes:
    """Up to ``max_bytes + 1`` bytes of the regular file at ``path``.

    Opened without blocking: a FIFO (which would wait for a writer forever), socket,
    device or folder is refused for what it is, and every other way the path can fail
    (a symlink loop, a name too long, no permission) is a one-line :class:`UsageError`
    naming it. A missing file raises :class:`FileNotFoundError`, which callers word.
    """

    def refused(reason: str) -> UsageError:
        return UsageError(f"cannot read {what}: {reason}", Location(clipped(display_path(path), 200)))

    try:
        # stat first: a device is never opened (opening some has effects), a FIFO
        # never waited on; the descriptor's own fstat below settles a race.
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            raise refused(f"is {_kind(mode)}, not a regular file")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise refused(_reason(exc)) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise refused(f"is {_kind(mode)}, not a regular file")
        chunks: list[bytes] = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise refused(_reason(exc)) from None
    finally:
        os.close(fd)


def read_mapping(path: Path, what: str = "profile") -> tuple[dict[str, Any], Positions]:
    """A profile-side YAML file whose top is a mapping (a profile, a values file)."""
    try:
        data, positions = read_yaml_file(path, what)
    except FileNotFoundError as exc:
        raise UsageError(f"cannot read {what}: {_reason(exc)}", Location(display_path(path))) from None
    if not isinstance(data, dict):
        where = positions.value(())
        raise ProfileError(f"expected a mapping at the top of the {what}, got {shown(data)}", where)
    return data, positions
