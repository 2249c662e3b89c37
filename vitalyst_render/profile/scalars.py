"""Facts about profile scalars that need no pydantic: what a name looks like, and how
an offending value reads in an error message. :mod:`.types` builds the validated
types on them; :mod:`.files` uses them to find profiles without loading the models.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import MAX_QUOTED, clipped

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


def named(text: object) -> str:
    """A name (a key, a profile name) as a message quotes it: in single quotes, cut short."""
    return repr(clipped(str(text)))


def quoted(text: str, limit: int = MAX_QUOTED) -> str:
    """``text`` in double quotes, JSON-escaped, with at most ``limit`` characters between
    the quotes (escapes count as they print); a cut is marked with an ellipsis."""
    whole = json.dumps(text, ensure_ascii=False)
    if len(whole) <= limit + 2:
        return whole
    kept, size = [], 0
    for char in text:
        piece = json.dumps(char, ensure_ascii=False)[1:-1]
        if size + len(piece) > limit - 1:
            break
        kept.append(piece)
        size += len(piece)
    return '"' + "".join(kept) + '…"'


def shown(value: Any) -> str:
    """How an offending input appears in an error message."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        from ..credentials import masked  # only on the way to an error

        # An error names what was wrong, never a credential the value holds.
        return quoted(masked(value))
    return clipped(str(value))
