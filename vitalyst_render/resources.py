"""Where the bundled templates, profiles and schemas live.

In a wheel they are installed under ``vitalyst_render/_data/``; in a source checkout
(editable install or PYTHONPATH) they are the top-level folders of the repository.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def data_dir(kind: str) -> Path:
    """Return the folder for ``kind`` (templates, profiles or schemas)."""
    installed = _PACKAGE / "_data" / kind
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / kind
