"""``render show``: the resolved profile as a render uses it, in YAML or JSON.

The profile after ``extends``, ``--values`` and ``--set``, with the model's defaults and
the image lock's digests filled in: every value a render reads, in the models' field
order. Saved as a profile file it renders the same bytes (with the same image lock
beside it when the lock says why images are unpinned: that reason is not a profile value).

With origins, each value says where it came from: ``file:line:col`` of the profile,
values file or image lock that set it, ``--set path=value`` for an override, or
``default`` for the model's default. YAML carries it as an end-of-line comment; JSON as
``{"profile": {...}, "origins": {"services.backend.replicas": "profiles/prod.yaml:19:15", ...}}``,
one entry per value in document order, keyed by the field path that errors use.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from ..engine import block_literal, yaml_scalar
from ..yamlsource import Path
from .loader import LoadedProfile, field_path

DEFAULT = "default"


def resolved(loaded: LoadedProfile) -> dict[str, Any]:
    """The resolved profile as plain data, spelt as a profile file spells it."""
    data: dict[str, Any] = loaded.profile.model_dump(mode="json", by_alias=True)
    return data


def origins(loaded: LoadedProfile) -> dict[str, str]:
    """Field path → where the value came from, for every value of :func:`resolved`."""
    return {field_path(path): _origin(loaded, path) for path, _ in _leaves(resolved(loaded), ())}


def _origin(loaded: LoadedProfile, path: Path) -> str:
    where = loaded.positions.values.get(path)
    return str(where) if where is not None else DEFAULT


def _leaves(node: Any, path: Path) -> Iterator[tuple[Path, Any]]:
    """Every scalar and empty collection, with its path, in document order."""
    if isinstance(node, dict) and node:
        for key, item in node.items():
            yield from _leaves(item, path + (key,))
    elif isinstance(node, list) and node:
        for index, item in enumerate(node):
            yield from _leaves(item, path + (index,))
    else:
        yield path, node


def show_json(loaded: LoadedProfile, *, with_origins: bool = False) -> str:
    document: Any = resolved(loaded)
    if with_origins:
        document = {"profile": document, "origins": origins(loaded)}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def show_yaml(loaded: LoadedProfile, *, with_origins: bool = False) -> str:
    header = f"# The profile {loaded.name} as render resolves it: extends merged, defaults and image-lock digests filled in.\n"
    lines: list[str] = []

    def comment(path: Path) -> str:
        return f"  # {_origin(loaded, path)}" if with_origins else ""

    _emit(resolved(loaded), (), "", "", lines, comment)
    return header + "\n".join(lines) + "\n"


def _scalar(value: Any, indent: int) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    if isinstance(value, str) and "\n" in value:
        return str(block_literal(value, indent))
    return yaml_scalar(value)


def _emit(node: Any, path: Path, lead: str, depth: str, lines: list[str], comment: Callable[[Path], str]) -> None:
    """Block YAML, one value per line; ``lead`` starts the first line (a list item's
    ``- ``), ``depth`` the others."""
    if isinstance(node, dict) and node:
        for index, (key, item) in enumerate(node.items()):
            start = lead if index == 0 else depth
            here = path + (key,)
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{start}{yaml_scalar(str(key))}:")
                _emit(item, here, depth + "  ", depth + "  ", lines, comment)
            else:
                _line(lines, f"{start}{yaml_scalar(str(key))}: ", _scalar(item, len(depth) + 2), comment(here))
    elif isinstance(node, list) and node:
        for index, item in enumerate(node):
            start = lead if index == 0 else depth
            here = path + (index,)
            if isinstance(item, (dict, list)) and item:
                _emit(item, here, start + "- ", depth + "  ", lines, comment)
            else:
                _line(lines, f"{start}- ", _scalar(item, len(depth) + 2), comment(here))


def _line(lines: list[str], prefix: str, text: str, comment: str) -> None:
    # A block scalar's comment goes after its header (`|-  # origin`), before its lines.
    first, newline, rest = text.partition("\n")
    lines.append(f"{prefix}{first}{comment}" + (newline + rest if newline else ""))
