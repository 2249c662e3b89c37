"""Facts about profile scalars that need no pydantic: what a name looks like, and how
an offending value reads in an error message. :mod:`.types` builds the validated
types on them; :mod:`.files` uses them to find profiles without loading the models.
"""

from __future__ import annotations

import json
from typing import Any

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


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
        return json.dumps(value, ensure_ascii=False)
    return str(value)
