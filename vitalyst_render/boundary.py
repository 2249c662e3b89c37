"""The library's boundary: what the public functions accept, and what a rendering may write.

The CLI refuses bad input with one line before anything runs; the library holds the same
line. Each public function hands its arguments to these helpers first, so a wrong type is
a :class:`UsageError` naming the function, the argument and what it takes
(``render(): profile must be a LoadedProfile from load_profile(), got str``), never a
``TypeError`` from deep inside the pipeline.

:func:`name_problem` is the one rule for the names of the files in a profile folder: the
render applies it to every target's paths, and :func:`writable` applies it again to a
:class:`~vitalyst_render.rendering.Rendering` handed to ``write`` or ``diff``, which may have
been made or changed by a caller (``dataclasses.replace``) rather than by ``render``.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ArtefactError, Location, UsageError
from .profile.scalars import DNS_LABEL

if TYPE_CHECKING:
    from .profile.loader import LoadedProfile
    from .rendering import Rendering

#: Longest name of one file or folder (Linux's NAME_MAX, in bytes).
NAME_MAX = 255
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")

PATH = "a path (str or os.PathLike)"
BOOL = "True or False"
LOADED = "a LoadedProfile from load_profile()"
RENDERING = "a Rendering from render()"


def got(value: object) -> str:
    """How a message names what it was given: ``None``, or the value's type."""
    return "None" if value is None else type(value).__name__


def refuse(where: str, expected: str, value: object) -> UsageError:
    return UsageError(f"{where} must be {expected}, got {got(value)}")


def flag(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise refuse(where, BOOL, value)
    return value


def path(value: object, where: str) -> Path:
    """A file system path: a non-empty ``str`` or ``os.PathLike`` of one, without NUL."""
    text = os.fspath(value) if isinstance(value, (str, os.PathLike)) else value
    if not isinstance(text, str):
        raise refuse(where, PATH, value)
    if not text or "\0" in text:
        raise UsageError(f"{where} must be {PATH}, got {'an empty string' if not text else 'a string with a NUL byte'}")
    return Path(text)


def optional_path(value: object, where: str) -> Path | None:
    return None if value is None else path(value, where)


def items(value: object, where: str, expected: str, *, paths: bool = False) -> tuple[Any, ...]:
    """A list (or tuple, set...) of strings, or of paths with ``paths``; never one bare
    string, which would be taken apart letter by letter."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Collection):
        raise refuse(where, expected, value)
    taken = tuple(value)
    for item in taken:
        if paths and isinstance(item, (str, os.PathLike)):
            text = os.fspath(item)
            if isinstance(text, str) and text and "\0" not in text:
                continue
            raise UsageError(f"{where} must be {expected}, got an empty path or one with a NUL byte")
        if not isinstance(item, str):
            raise UsageError(f"{where} must be {expected}, got an item of type {got(item)}")
    return taken


def loaded_profile(value: object, where: str) -> LoadedProfile:
    from .profile.loader import LoadedProfile

    if not isinstance(value, LoadedProfile):
        raise refuse(where, LOADED, value)
    return value


def rendering(value: object, where: str) -> Rendering:
    from .rendering import Rendering

    if not isinstance(value, Rendering):
        raise refuse(where, RENDERING, value)
    return value


def str_mapping(value: object, where: str, expected: str) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        raise refuse(where, expected, value)
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise UsageError(f"{where} must be {expected}, got a {got(key)} key with a {got(item)} value")
    return value


# -- the names of the files in a profile folder --------------------------------------------


def name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a file of a profile folder, or None when it can: it must be a
    relative, normalised POSIX path below the folder (no ``..``, ``.``, empty or absolute
    part), without a backslash or a control character, each part at most 255 bytes."""
    if not isinstance(name, str):
        return f"is a {got(name)}, not a string"
    if not name:
        return "is empty"
    if _UNSAFE.search(name):
        return "holds a backslash or a control character"
    if name.startswith("/"):
        return "is absolute"
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts) or posixpath.normpath(name) != name:
        return "is not a normalised path inside the folder"
    try:
        if any(len(part.encode("utf-8")) > NAME_MAX for part in parts):
            return f"has a part longer than {NAME_MAX} bytes"
    except UnicodeEncodeError:
        return "is not valid UTF-8"
    return None


def writable(value: object, where: str, manifest_name: str) -> Rendering:
    """``value`` as a rendering that ``write`` and ``diff`` may act on, checked afresh.

    The result is a new :class:`Rendering` whose files are a read-only copy of those checked,
    so nothing the caller still holds can change them between this check and the write.
    Refused, with :class:`ArtefactError`: a profile name that is not a DNS-1123 label (it
    names the folder), a file name that :func:`name_problem` refuses, a file that would be
    a folder of another, data that is not bytes, and a manifest that is missing or does not
    list exactly the other files.
    """
    from .rendering import Rendering

    given = rendering(value, f"{where}: rendering")
    name = getattr(given.loaded, "name", None)
    if not isinstance(name, str) or not re.fullmatch(DNS_LABEL, name):
        raise ArtefactError(f"{where} refuses the rendering: its profile name {name!r} is not a DNS-1123 label (it names the output folder)")
    if not isinstance(given.files, Mapping):
        raise ArtefactError(f"{where} refuses the rendering: its files are a {got(given.files)}, not a mapping of name to bytes")
    files = dict(given.files.items())
    folder = Location(posixpath.join(given.out_prefix if isinstance(given.out_prefix, str) else "out", name))
    for file, data in files.items():
        problem = name_problem(file)
        if problem is not None:
            raise ArtefactError(f"{where} refuses the file name {file!r}: it {problem}", folder)
        if not isinstance(data, bytes):
            raise ArtefactError(f"{where} refuses {file!r}: its data is a {got(data)}, not bytes", folder)
    folders = {"/".join(parts[:end]) for parts in (file.split("/") for file in files) for end in range(1, len(parts))}
    for file in sorted(folders.intersection(files)):
        raise ArtefactError(f"{where} refuses the file name {file!r}: other files are inside it, as in a folder", folder)
    listed = _listed(files.get(manifest_name))
    if listed is None or listed != set(files) - {manifest_name}:
        raise ArtefactError(
            f"{where} refuses the rendering: its {manifest_name} is missing or does not list exactly its other files (make renderings with render())",
            folder,
        )
    artefacts = given.artefacts if isinstance(given.artefacts, Mapping) else {}
    return Rendering(given.loaded, given.plan, artefacts, files, given.out_prefix, given.seconds, given.phases)


def _listed(manifest: bytes | None) -> set[str] | None:
    if manifest is None:
        return None
    try:
        entries = json.loads(manifest)["files"]
    except (ValueError, KeyError, TypeError):
        return None
    return set(entries) if isinstance(entries, dict) else None
