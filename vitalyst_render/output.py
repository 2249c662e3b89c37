"""The I/O end of the pipeline: atomic writes of ``out/<profile>/`` and drift diffs.

A render is staged in a sibling folder, then swapped in with one atomic
``renameat2(RENAME_EXCHANGE)``, so a killed render leaves the old tree or the new one,
never a mix. Files that the previous ``manifest.json`` did not list belong to someone
else: they are carried over untouched (hard links to the same inodes), and a render
that would overwrite one stops instead. So are folders that no listed file lives in
(an empty one included), and every folder keeps its mode across the swap.

Links inside ``out/<profile>/`` are never followed. A symbolic link is never ours, even
at a path the manifest lists: it is carried over as it is, a render that would replace
it stops, and ``manifest.json`` itself as a link is an error (as an unreadable one is).

A render killed mid-write leaves its staging folder (``out/.<profile>.new-*``) behind;
the next write to ``out/`` removes every such folder first and says which
(:attr:`WriteSummary.cleaned`).

A write or diff may be limited to some groups (the top-level folders, ``only``).
Everything outside them, files and their manifest entries alike, is carried over as it
was; the manifest lists the subset's new hashes beside the previous entries of the rest,
so a full ``diff`` afterwards shows exactly the files outside the subset that differ.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import difflib
import errno
import fcntl
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Collection, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal

from .errors import ArtefactError, Location, UsageError
from .artefacts import GROUPS, MANIFEST, group_of
from . import boundary
from .boundary import name_problem
from .rendering import Rendering, file_digests, manifest_of


@dataclass(frozen=True)
class WriteSummary:
    folder: Path
    written: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: bool
    #: Staging folders of killed renders that this write removed first (``out/.<profile>.new-*``).
    cleaned: tuple[Path, ...] = ()


#: How a file on disk differs from the render (``render --check``):
#: ``new``: rendered, not on disk, and never written before (the manifest does not list it);
#: ``deleted``: rendered and listed by the manifest, but missing on disk;
#: ``changed``: rendered and on disk, with other bytes;
#: ``stale``: on disk and listed by the manifest, but no longer rendered (a render removes it).
DriftStatus = Literal["new", "deleted", "changed", "stale"]

#: Folders that are applied whole (``kubectl apply -f out/<profile>/kubernetes/``): a
#: file in one that vitalyst-render did not make would be applied with the rest.
APPLIED_FOLDERS = ("kubernetes",)


@dataclass(frozen=True)
class FileDiff:
    path: str
    status: DriftStatus
    text: str


def _safe_name(name: object) -> bool:
    """A manifest entry we may act on: relative, normalised, inside the folder."""
    return name_problem(name) is None


def _previous_entries(folder: Path) -> dict[str, object] | None:
    """The previous manifest's files (path → its recorded hash); None without a manifest.
    A manifest that is a link is never followed: it is refused, as an unreadable one is."""
    path = folder / MANIFEST
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError:
        mode = 0
    if stat.S_ISLNK(mode):
        raise ArtefactError(
            "manifest.json is a symbolic link, and vitalyst-render never follows links in the output folder; "
            "remove it (and the files it listed) to render again",
            Location(str(path)),
        )
    try:
        raw = _read(path)
        if raw is None:
            raise ValueError
        files = json.loads(raw.decode("utf-8"))["files"]
        if not isinstance(files, dict):
            raise TypeError
    except (OSError, ValueError, KeyError, TypeError):
        raise ArtefactError(
            "manifest.json is unreadable; remove it (and the files it listed) to render again", Location(str(path))
        ) from None
    # The manifest is input like any other file in the tree: names that point outside
    # the folder are ignored, never read or removed.
    return {name: value for name, value in files.items() if _safe_name(name) and name != MANIFEST}


def _owned(entries: Mapping[str, object] | None) -> set[str]:
    """The files a previous render made: those its manifest lists, and the manifest."""
    return set() if entries is None else set(entries) | {MANIFEST}


def _scope(only: Collection[str] | None) -> Callable[[str], bool]:
    """Whether a path is one that a write or diff limited to the groups ``only`` handles.

    None means the whole profile folder. A subset never covers the manifest as a file:
    its entries outside the subset are carried over, so it is rewritten, not compared.
    """
    if only is None:
        return lambda path: True
    for group in only:
        if not _safe_name(group) or "/" in group:
            raise UsageError(f"--only takes a top-level folder of the output (e.g. {', '.join(GROUPS)}), got {group!r}")
    groups = frozenset(only)
    return lambda path: path != MANIFEST and group_of(path) in groups


def _subset_files(rendering: Rendering, entries: Mapping[str, object], in_scope: Callable[[str], bool]) -> dict[str, bytes]:
    """The subset's files plus a manifest that keeps the previous entries outside it."""
    files = {path: data for path, data in rendering.files.items() if in_scope(path)}
    kept = {path: value for path, value in entries.items() if not in_scope(path)}
    files[MANIFEST] = manifest_of(rendering.loaded, {**kept, **file_digests(files)})
    return files


def _on_disk(folder: Path) -> dict[str, Path]:
    """Every file and symlink below ``folder``, by POSIX relative path (links not followed)."""
    found: dict[str, Path] = {}
    if not folder.is_dir():
        return found
    for root, dirs, names in os.walk(folder):
        here = Path(root)
        for name in names + [d for d in dirs if (here / d).is_symlink()]:
            full = here / name
            found[full.relative_to(folder).as_posix()] = full
    return found


def _folders_on_disk(folder: Path) -> dict[str, int]:
    """Every folder of ``folder`` (itself as ``""``) with its permission bits; links not followed."""
    found: dict[str, int] = {}
    if folder.is_symlink() or not folder.is_dir():
        return found
    for root, dirs, _ in os.walk(folder):
        here = Path(root)
        relative = here.relative_to(folder).as_posix()
        found["" if relative == "." else relative] = stat.S_IMODE(os.lstat(here).st_mode)
        dirs[:] = [d for d in dirs if not (here / d).is_symlink()]
    return found


def _parents(paths: Collection[str]) -> set[str]:
    """Every folder that holds one of ``paths`` (relative, POSIX), the top as ``""``."""
    found = {""}
    for path in paths:
        parts = path.split("/")[:-1]
        found.update("/".join(parts[:depth]) for depth in range(1, len(parts) + 1))
    return found


def _target_folder(rendering: Rendering, out: Path) -> Path:
    folder = out / rendering.profile
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise ArtefactError("output folder is a symlink or not a folder; refusing to replace it", Location(str(folder)))
    return folder


@dataclass(frozen=True)
class _Plan:
    folder: Path
    files: dict[str, bytes]  # what the new tree gets from this render
    carried: dict[str, Path]  # what it keeps as it is: foreign files, and ours outside the subset
    folders: dict[str, int]  # folders the old tree had that the new one keeps, with their modes
    written: tuple[str, ...]
    removed: tuple[str, ...]


def _plan(rendering: Rendering, out: Path, only: Collection[str] | None = None) -> _Plan:
    folder = _target_folder(rendering, out)
    in_scope = _scope(only)
    entries = _previous_entries(folder)
    previous = _owned(entries)
    existing = _on_disk(folder)
    old_folders = _folders_on_disk(folder)
    files = dict(rendering.files) if only is None else _subset_files(rendering, entries or {}, in_scope)
    # A link is never ours, even where the manifest lists it: vitalyst-render makes none.
    links = {p for p, full in existing.items() if full.is_symlink()}
    owned_folders = _parents(previous)
    foreign_folders = [d for d in old_folders if d not in owned_folders]  # no listed file lives in them
    foreign = [p for p in existing if p not in previous or p in links] + foreign_folders
    needed_folders = _parents(files)
    clashes = sorted(p for p in foreign if p in files or (p in needed_folders and p not in old_folders))
    if clashes:
        what = "it is a symbolic link, which vitalyst-render never makes" if clashes[0] in links else (
            "vitalyst-render did not make it (not in manifest.json)")
        raise ArtefactError(f"refusing to overwrite {clashes[0]!r}: {what}; move it away", Location(str(folder / clashes[0])))
    ours = {p for p in existing if p in previous and p not in links and in_scope(p)}
    carried = {p: existing[p] for p in existing if p not in files and p not in ours}
    kept = needed_folders | _parents([*carried, *(f"{d}/" for d in foreign_folders)])  # "a/b/": a and a/b
    folders = {d: mode for d, mode in old_folders.items() if d in kept}
    written = tuple(p for p, data in files.items() if _read(existing.get(p)) != data)
    removed = tuple(sorted(p for p in ours if p not in files))
    return _Plan(folder, files, carried, folders, written, removed)


@contextmanager
def _io_errors(where: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        name = exc.filename or where
        raise ArtefactError(f"file system error: {exc.strerror or exc}", Location(str(name))) from None


@contextmanager
def _locked(out: Path) -> Iterator[None]:
    """One writer per output root at a time: concurrent renders queue instead of
    deleting each other's staging folders."""
    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def check_writable(rendering: Rendering, out: str | Path = "out", *, only: Collection[str] | None = None) -> None:
    """Raise :class:`ArtefactError` if :func:`write` would refuse ``rendering``; write nothing."""
    rendering, out, only = _arguments("write", rendering, out, only)
    with _io_errors(Path(out)):
        _plan(rendering, Path(out), only)


def write(rendering: Rendering, out: str | Path = "out", *, only: Collection[str] | None = None) -> WriteSummary:
    """Write ``rendering`` to ``out/<profile>/`` atomically; return what changed.

    ``only`` names top-level folders (``kubernetes``, ``compose``, ...): then only their
    files are written or removed, and everything else in the folder stays as it was.
    Every argument is checked first, and every file name again (see
    :func:`vitalyst_render.boundary.writable`): a rendering a caller made or changed
    that names a file outside the folder is refused before anything is written.
    """
    rendering, out, only = _arguments("write", rendering, out, only)
    with _io_errors(out):
        out.mkdir(parents=True, exist_ok=True)
        with _locked(out):
            cleaned = _recover(out)
            plan = _plan(rendering, out, only)
            if plan.folder.is_dir() and not plan.written and not plan.removed:
                return WriteSummary(plan.folder, (), (), True, cleaned)
            _stage_and_swap(rendering.profile, out, plan)
    return WriteSummary(plan.folder, plan.written, plan.removed, False, cleaned)


def _stage_and_swap(profile: str, out: Path, plan: _Plan) -> None:
    staging = Path(tempfile.mkdtemp(prefix=f".{profile}.new-", dir=out))
    try:
        os.chmod(staging, 0o755)  # mkdtemp makes it private; the tree it becomes is not
        for path, data in plan.files.items():
            _write_file(staging / path, data)
        for path, source in plan.carried.items():
            _carry(source, staging / path)
        _keep_folders(staging, plan.folders)
        _flush(staging, [staging / path for path in plan.files])
        _swap_in(staging, plan.folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _keep_folders(staging: Path, folders: Mapping[str, int]) -> None:
    """Give the staged tree the old tree's folders: the foreign ones (an empty one too)
    made, and each with its mode, the deepest first, so that a folder closed to writes
    is closed after everything inside it is in place."""
    for folder in sorted(folders, key=lambda d: (d.count("/"), d)):
        if folder:
            (staging / folder).mkdir(parents=True, exist_ok=True)
    for folder in sorted(folders, key=lambda d: (-d.count("/") - bool(d), d)):
        os.chmod(staging / folder if folder else staging, folders[folder])


def _read(path: Path | None) -> bytes | None:
    """A regular file's bytes; None for anything else (missing, a link, a folder, a FIFO).
    Never follows a link and never blocks (O_NOFOLLOW, O_NONBLOCK, then fstat)."""
    if path is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            return handle.read()
    except OSError:
        return None
    finally:
        os.close(fd)


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o644)


def _flush(staging: Path, written: list[Path]) -> None:
    """Put the staged files on disk before they are swapped in: one syncfs(2) of their
    filesystem on Linux (an fsync per file commits ext4's journal once per file, and a
    large render has thousands), else an fsync of each file; then the folder itself."""
    if not _syncfs(staging):
        for path in written:
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    _fsync_dir(staging)


def _syncfs(path: Path) -> bool:
    """syncfs(2) on the filesystem that holds ``path``; False when there is none."""
    libc_name = ctypes.util.find_library("c")
    syncfs = getattr(ctypes.CDLL(libc_name, use_errno=True), "syncfs", None) if libc_name is not None else None
    if syncfs is None:
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        if syncfs(fd) != 0:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error), str(path))
    finally:
        os.close(fd)
    return True


def _carry(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    if source.is_symlink():
        os.symlink(os.readlink(source), destination)
        return
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2). False when unsupported."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(error, os.strerror(error), str(b))


def _swap_in(staging: Path, folder: Path) -> None:
    if not folder.exists():
        os.rename(staging, folder)
        return
    if _exchange(staging, folder):
        return  # staging now holds the old tree; the caller removes it
    # Fallback: two renames. If we die between them, _recover() restores the old tree.
    old = staging.with_name(staging.name.replace(".new-", ".old-"))
    os.rename(folder, old)
    os.rename(staging, folder)
    shutil.rmtree(old, ignore_errors=True)


#: The staging folders a write makes beside ``out/<profile>/``: the new tree, and (in the
#: rename fallback) the old one moved aside.
_STAGING = re.compile(r"\.(?P<profile>[a-z0-9]([-a-z0-9]*[a-z0-9])?)\.(?P<kind>new|old)-.+")


def _recover(out: Path) -> tuple[Path, ...]:
    """Clean up after renders that were killed mid-write, of every profile in ``out``
    (the caller holds the lock, so no staging folder there is in use): an old tree moved
    aside goes back if its folder is missing, every other staging folder is removed.
    Returns what was removed."""
    if not out.is_dir():
        return ()
    removed: list[Path] = []
    for leftover in sorted(out.iterdir()):
        match = _STAGING.fullmatch(leftover.name)
        if match is None or leftover.is_symlink() or not leftover.is_dir():
            continue
        folder = out / match["profile"]
        if match["kind"] == "old" and not os.path.lexists(folder):
            os.rename(leftover, folder)  # killed between the fallback's two renames
            continue
        shutil.rmtree(leftover, ignore_errors=True)
        if not os.path.lexists(leftover):
            removed.append(leftover)
    return tuple(removed)


def diff(rendering: Rendering, out: str | Path = "out", *, only: Collection[str] | None = None) -> list[FileDiff]:
    """Compare ``rendering`` with ``out/<profile>/``: new, deleted, changed and stale files.

    Only files found inside the folder are read; links are not followed. ``only``
    compares just those top-level folders (and not the manifest).
    """
    rendering, out, only = _arguments("diff", rendering, out, only)
    folder = out / rendering.profile
    shown = folder.as_posix()
    in_scope = _scope(only)
    with _io_errors(folder):
        on_disk = _on_disk(folder) if not folder.is_symlink() else {}
        previous = {p for p in _owned(_previous_entries(folder)) if in_scope(p)} if MANIFEST in on_disk else set()
    diffs: list[FileDiff] = []
    for path, data in rendering.files.items():
        if not in_scope(path):
            continue
        current = _read(on_disk.get(path))
        if current == data:
            continue
        status: DriftStatus = "changed" if current is not None else "deleted" if path in previous else "new"
        diffs.append(FileDiff(path, status, _unified(f"{shown}/{path}", current, data)))
    for path in sorted(previous - set(rendering.files)):
        current = _read(on_disk.get(path))
        if current is not None:
            diffs.append(FileDiff(path, "stale", _unified(f"{shown}/{path}", current, None)))
    return diffs


def foreign_applied(rendering: Rendering, out: str | Path = "out") -> tuple[str, ...]:
    """Files in an applied folder of ``out/<profile>/`` (see :data:`APPLIED_FOLDERS`) that
    vitalyst-render did not make: neither rendered now nor listed by ``manifest.json``.

    A render keeps such files untouched, so they stay until someone moves them.
    """
    folder = Path(out) / rendering.profile
    with _io_errors(folder):
        if folder.is_symlink() or not folder.is_dir():
            return ()
        on_disk = _on_disk(folder)
        previous = _owned(_previous_entries(folder)) if MANIFEST in on_disk else set()
    return tuple(
        sorted(
            p for p in on_disk
            if group_of(p) in APPLIED_FOLDERS and "/" in p and (p not in previous or on_disk[p].is_symlink()) and p not in rendering.files
        )
    )


def _arguments(function: str, rendering: object, out: object, only: object) -> tuple[Rendering, Path, tuple[str, ...] | None]:
    """What :func:`write` and :func:`diff` were given, checked: the rendering afresh."""
    checked = boundary.writable(rendering, f"{function}()", MANIFEST)
    where = boundary.path(out, f"{function}(): out")
    groups = None if only is None else boundary.items(only, f"{function}(): only", "a list of top-level folder names or None")
    return checked, where, groups


def _unified(name: str, before: bytes | None, after: bytes | None) -> str:
    old = before.decode("utf-8", "replace").splitlines(keepends=True) if before is not None else []
    new = after.decode("utf-8", "replace").splitlines(keepends=True) if after is not None else []
    # git-style a/ and b/ prefixes, except on absolute paths where they would mislead.
    a_name, b_name = (name, name) if name.startswith("/") else (f"a/{name}", f"b/{name}")
    lines = difflib.unified_diff(
        old, new, fromfile=a_name if before is not None else "/dev/null", tofile=b_name if after is not None else "/dev/null"
    )
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


#: Parsed as one of these, a file is YAML documents (JSON is YAML too), so it can join a stream.
_YAML_PARSED = ("yaml", "yaml-stream", "json")


def yaml_stream(rendering: Rendering, only: Collection[str]) -> str:
    """The files of the groups ``only`` as one multi-document YAML stream, in render order.

    Each document is preceded by ``# Source: out/<profile>/<path>``, so a reader of
    ``kubectl apply`` output can find its file. Files that are not YAML (Dockerfiles,
    redis.conf, Markdown) cannot be documents: naming a group that holds one, or groups
    that hold nothing, raises :class:`UsageError`.
    """
    in_scope = _scope(only)
    selected = [artefact for path, artefact in rendering.artefacts.items() if in_scope(path)]
    if not selected:
        raise UsageError(f"profile {rendering.profile!r} renders nothing in {' or '.join(f'{g}/' for g in only)}: nothing to print")
    not_yaml = [artefact.path for artefact in selected if artefact.parse_as not in _YAML_PARSED]
    if not_yaml:
        yaml_groups = [g for g in GROUPS if _all_yaml(rendering, g)]
        raise UsageError(
            f"--stdout prints YAML documents only, and {rendering.folder}/{not_yaml[0]} is not YAML; "
            f"choose YAML groups with --only ({', '.join(yaml_groups)})"
        )
    return "".join(
        f"---\n# Source: {rendering.folder}/{artefact.path}\n{document}" for artefact in selected for document in _documents(artefact.text)
    )


def _all_yaml(rendering: Rendering, group: str) -> bool:
    artefacts = [a for a in rendering.artefacts.values() if group_of(a.path) == group]
    return bool(artefacts) and all(a.parse_as in _YAML_PARSED for a in artefacts)


def _documents(text: str) -> list[str]:
    """A YAML file's documents as text, split at its bare ``---`` lines (a line that is
    ``---`` always starts a document, wherever it stands); comments and blank lines
    stay with the document they precede, and a file without content yields none."""
    chunks: list[list[str]] = [[]]
    for line in text.splitlines(keepends=True):
        if line.rstrip() == "---":
            chunks.append([])
        else:
            chunks[-1].append(line if line.endswith("\n") else line + "\n")
    documents: list[str] = []
    pending = ""
    for chunk in chunks:
        pending += "".join(chunk)
        if any(line.strip() and not line.lstrip().startswith("#") for line in chunk):
            documents.append(pending)
            pending = ""
    if pending and documents:
        documents[-1] += pending
    return documents
