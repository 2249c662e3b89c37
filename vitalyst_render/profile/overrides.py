"""``--set path=value``: one value of the profile, for one run, typed by the model.

The path is dotted (``services.backend.env.LOG_LEVEL``). Where the model wants text at
the path (a string, or a choice of strings such as ``environment.kubernetes.version``),
the value is the raw text, so ``LOG_LEVEL=1.30`` stays ``"1.30"``; elsewhere it is read
as a YAML scalar or flow value (``replicas=5`` is the integer 5, ``ports=[{name: http,
port: 80}]`` a list). ``path+=item`` appends one item, typed by the list's items. The
result is an overlay like a ``--values`` file whose every position is the ``--set``
itself, so a bad value is the same one-line error as in a file:
``--set services.backend.replicas=many: services.backend.replicas: expected an integer ≥ 1, got "many"``.
"""

from __future__ import annotations

import re
from typing import Any, Literal, get_args, get_origin

from ..credentials import masked
from ..errors import Location, ProfileError, clipped
from ..yamlsource import Path, Positions, YamlSourceError, load_yaml
from .loader import unwrap_annotation, annotation_at, field_path, refuse_profile_keys
from .merge import APPEND, Layer

_SEGMENT = re.compile(r"[^\s.=\[\]]+")


def override_layer(text: str, current: dict[str, Any]) -> Layer:
    """The overlay of one ``--set`` item, typed by the model against ``current`` (the
    profile data it applies to, which says each service's kind)."""
    # Quoted as written, but short, and without a credential the value may hold.
    where = Location(f"--set {clipped(masked(text))}")
    spelt, equals, raw = text.partition("=")
    if not equals:
        raise ProfileError("expected path=value, such as services.backend.replicas=5", where)
    append = spelt.endswith(APPEND)
    parts = tuple((spelt[: -len(APPEND)] if append else spelt).split("."))
    if "[" in spelt:
        raise ProfileError("cannot set one item of a list: set the whole list (path=[...]) or append an item (path+=item)", where)
    if not all(_SEGMENT.fullmatch(part) for part in parts):
        raise ProfileError("expected a dotted field path before '=', such as services.backend.env.LOG_LEVEL", where)
    path: Path = parts
    wanted = _expected(path, current, where)
    if append:
        listed = unwrap_annotation(wanted)
        wanted = get_args(listed)[0] if get_origin(listed) is list else None
    # `a.b+=x` is the overlay {a: {b+: [x]}}.
    key_path: Path = path[:-1] + (f"{path[-1]}{APPEND}",) if append else path
    value_path: Path = key_path + (0,) if append else key_path
    positions = Positions(where.file)
    value = raw if _wants_text(wanted) else _parsed(raw, where, positions, value_path)
    for place in [key_path[:depth] for depth in range(len(key_path) + 1)] + [value_path]:
        positions.values[place] = positions.keys[place] = where
    leaf: Any = [value] if append else value
    for part in reversed(key_path):
        leaf = {part: leaf}
    refuse_profile_keys(leaf, positions, "--set")
    return Layer(leaf, positions)


def _expected(path: Path, current: dict[str, Any], where: Location) -> Any:
    """The model's type at ``path``; None where the model does not say (an unknown key,
    which validation then names with its did-you-mean). A list on the way is refused:
    ``--set`` replaces or appends to a whole list, it never reaches into one."""
    kind: Any = None
    if len(path) > 2 and path[0] == "services":
        service = (current.get("services") or {}).get(path[1])
        kind = service.get("kind") if isinstance(service, dict) else None
        if not isinstance(kind, str):
            return None

    def tagged(prefix: Path) -> Path:
        # Pydantic's locations name a service's kind after its name.
        return prefix[:2] + (kind,) + prefix[2:] if kind is not None and len(prefix) > 2 else prefix

    for depth in range(1, len(path)):
        if get_origin(unwrap_annotation(annotation_at(tagged(path[:depth])))) is list:
            shown = field_path(path[:depth])
            raise ProfileError(f"a list: --set replaces all of it ({shown}=[...]) or appends an item ({shown}+=item)", where, shown)
    return annotation_at(tagged(path))


def _wants_text(annotation: Any) -> bool:
    annotation = unwrap_annotation(annotation)
    if annotation is str:
        return True
    return get_origin(annotation) is Literal and all(isinstance(choice, str) for choice in get_args(annotation))


def _parsed(raw: str, where: Location, positions: Positions, path: Path) -> Any:
    """``raw`` read as YAML; each of its paths placed at the ``--set``."""
    try:
        value, parsed = load_yaml(raw, where.file)
    except YamlSourceError as exc:
        raise ProfileError(exc.message, where) from None
    for inner in parsed.values:
        positions.values[path + inner] = where
    for inner in parsed.keys:
        positions.keys[path + inner] = where
    for inner, spelling in parsed.spelling.items():
        positions.spelling[path + inner] = spelling
    return value
