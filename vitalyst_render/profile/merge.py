"""The one merge rule of ``extends``: maps deep-merge; lists and scalars replace."""

from __future__ import annotations

from typing import Any


def deep_merge(parent: Any, child: Any) -> Any:
    if isinstance(parent, dict) and isinstance(child, dict):
        merged = dict(parent)
        for key, value in child.items():
            merged[key] = deep_merge(parent[key], value) if key in parent else value
        return merged
    return child
