"""A cache of external tools' verdicts, outside ``out/``.

A tool's verdict is a function of the program and the bytes it sees, so a verdict is
stored under a key made of both: the program's resolved path with its size and
modification time (an upgrade or a rebuild changes them), its arguments and extra
environment, and every file written for it. An entry is one small JSON file written to
a temporary name and renamed into place, so concurrent renders share the cache safely
(a reader sees a whole entry or none), and deleting the folder at any time only costs
the next run its speed. An entry that cannot be read is a miss.

Where: ``$VITALYST_RENDER_CACHE_DIR``, else ``$XDG_CACHE_HOME/vitalyst-render``, else
``~/.cache/vitalyst-render``. ``render --no-cache`` (``check(..., cache=False)``)
neither reads nor writes it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

CACHE_ENV = "VITALYST_RENDER_CACHE_DIR"
#: Bumped when what an entry holds, or how a key is made, changes.
FORMAT = 1

Verdict = tuple[int, str, str]  # exit status, stdout, stderr


def default_cache_dir() -> Path:
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache") / "vitalyst-render"


class VerdictCache:
    """Verdicts stored as ``FOLDER/verdicts/v<FORMAT>/<ab>/<key>.json``."""

    def __init__(self, folder: Path | None = None) -> None:
        self.root = (folder or default_cache_dir()) / "verdicts" / f"v{FORMAT}"

    def key(self, binary: str, arguments: Sequence[str], files: Mapping[str, str], env: Mapping[str, str]) -> str | None:
        """The key of one run, or None when the program cannot be identified."""
        try:
            real = os.path.realpath(binary)
            stat = os.stat(real)
        except OSError:
            return None
        digest = hashlib.sha256(json.dumps([FORMAT, real, stat.st_size, stat.st_mtime_ns, list(arguments), sorted(env.items())]).encode())
        for name in sorted(files):
            data = files[name].encode("utf-8")
            digest.update(b"\0%d:%s\0%d:" % (len(name.encode("utf-8")), name.encode("utf-8"), len(data)))
            digest.update(data)
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> Verdict | None:
        try:
            entry = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], int)
                and isinstance(entry[1], str) and isinstance(entry[2], str)):
            return None
        return entry[0], entry[1], entry[2]

    def put(self, key: str, verdict: Verdict) -> None:
        """Store a verdict; a cache that cannot be written is no reason to fail a render."""
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, staged = tempfile.mkstemp(prefix=".entry-", dir=path.parent)
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    json.dump(list(verdict), stream)
                os.replace(staged, path)
            except BaseException:
                os.unlink(staged)
                raise
        except OSError:
            return
