"""How a profile layer applies over what it inherits: ``extends`` children, ``--values``
files and ``--set`` overrides all merge by the same rule.

Maps deep-merge; lists and scalars replace. One directive extends a list instead of
replacing it: ``key+: [items]`` appends the items to the inherited ``key`` (a service's
``secrets+: [stripe-key]``). It is refused where nothing is inherited to append to, where
the inherited value is not a list, and next to a plain ``key`` in the same mapping.
A list replaced outright that loses items of the inherited one is recorded as a
:class:`DroppedItems`, so that a check can say so.

Positions merge with the data: every path of the result points into the layer that
supplied its value, and an appended item into the file that appended it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import Location, ProfileError
from ..yamlsource import Path, Positions
from .types import shown

#: ``secrets+:`` appends to the inherited ``secrets``.
APPEND = "+"


@dataclass(frozen=True)
class DroppedItems:
    """A list that a layer replaced, and the inherited items the new list lacks."""

    path: Path
    items: tuple[Any, ...]
    location: Location  # where the replacing list is written


@dataclass(frozen=True)
class Layer:
    """Plain profile data and where each of its paths is written."""

    data: Any
    positions: Positions
    dropped: tuple[DroppedItems, ...] = ()


def appended_key(key: str) -> str | None:
    """``secrets+`` → ``secrets``; None for a plain key."""
    return key[: -len(APPEND)] if key.endswith(APPEND) and len(key) > len(APPEND) else None


def merge_layers(parent: Layer, child: Layer, *, overlay: bool = False) -> Layer:
    """``child`` applied over ``parent``. An ``extends`` child is the profile's own file:
    its name and document start stand for the whole result. An ``overlay`` (``--values``,
    ``--set``) only changes values, so those stay the profile's."""
    merge = _Merge(parent.positions, child.positions, Positions(child.positions.file))
    data = merge.value(parent.data, child.data, (), ())
    result = merge.result
    if overlay:
        result.file = parent.positions.file
        for found, kept in ((parent.positions.values, result.values), (parent.positions.keys, result.keys)):
            if () in found:
                kept[()] = found[()]
    return Layer(data, result, parent.dropped + tuple(merge.dropped))


def deep_merge(parent: Any, child: Any) -> Any:
    """The merge of plain data, without positions."""
    return merge_layers(Layer(parent, Positions("")), Layer(child, Positions(""))).data


def outstanding_drops(layer: Layer) -> tuple[DroppedItems, ...]:
    """The drops still true of the final data: a later layer may have put the items back,
    or replaced the whole list's parent."""
    found = []
    for drop in layer.dropped:
        current: Any = layer.data
        for part in drop.path:
            current = current.get(part) if isinstance(current, dict) else None
        if isinstance(current, list):
            lost = tuple(item for item in drop.items if item not in current)
            if lost:
                found.append(DroppedItems(drop.path, lost, drop.location))
    return tuple(found)


_ABSENT = object()


@dataclass
class _Merge:
    parent: Positions
    child: Positions
    result: Positions
    dropped: list[DroppedItems] = field(default_factory=list)

    def value(self, inherited: Any, value: Any, source: Path, target: Path) -> Any:
        """The child's ``value`` (at ``source`` in its own file) over ``inherited``, at ``target``."""
        self._place(self.child, source, target)
        if isinstance(value, dict):
            return self._mapping(inherited if isinstance(inherited, dict) else {}, value, source, target)
        if isinstance(value, list):
            if isinstance(inherited, list):
                lost = tuple(item for item in inherited if item not in value)
                if lost:
                    self.dropped.append(DroppedItems(target, lost, self.child.value(source)))
            return [self.value(_ABSENT, item, source + (index,), target + (index,)) for index, item in enumerate(value)]
        return value

    def _mapping(self, inherited: dict[str, Any], value: dict[str, Any], source: Path, target: Path) -> dict[str, Any]:
        for key in value:
            base = appended_key(key)
            if base is not None and base in value:
                raise ProfileError(
                    f"give either {base} (replaces the inherited list) or {key} (appends to it), not both",
                    self.child.key(source + (key,)),
                    _shown_path(target + (key,)),
                )
        merged: dict[str, Any] = {}
        for key, item in inherited.items():
            if key in value:
                merged[key] = self.value(item, value[key], source + (key,), target + (key,))
            elif key + APPEND in value:
                merged[key] = self._append(item, value[key + APPEND], source + (key + APPEND,), target + (key,))
            else:
                merged[key] = self._keep(item, target + (key,))
        for key, item in value.items():
            base = appended_key(key)
            if base is not None and base not in inherited:
                raise ProfileError(
                    f"nothing to append to: no inherited {_shown_path(target + (base,))}; write {base}: to set the list",
                    self.child.key(source + (key,)),
                    _shown_path(target + (key,)),
                )
            if base is None and key not in inherited:
                merged[key] = self.value(_ABSENT, item, source + (key,), target + (key,))
        return merged

    def _append(self, inherited: Any, items: Any, source: Path, target: Path) -> list[Any]:
        where = _shown_path(target[:-1] + (str(target[-1]) + APPEND,))
        if not isinstance(inherited, list):
            key = target[-1]
            instead = f"a mapping, which merges key by key: write {key}: without +" if isinstance(inherited, dict) else (
                f"{shown(inherited)}: write {key}: to replace it")
            raise ProfileError(
                f"appends to a list, but the inherited {_shown_path(target)} is {instead}",
                self.child.key(source),
                where,
            )
        if not isinstance(items, list):
            raise ProfileError(f"expected a list of items to append, got {shown(items)}", self.child.value(source), where)
        self._place(self.child, source, target)
        kept = [self._keep(item, target + (index,)) for index, item in enumerate(inherited)]
        offset = len(kept)
        return kept + [self.value(_ABSENT, item, source + (index,), target + (offset + index,)) for index, item in enumerate(items)]

    def _keep(self, value: Any, path: Path) -> Any:
        """An inherited value no layer touched: a copy, with the parent's positions."""
        self._place(self.parent, path, path)
        if isinstance(value, dict):
            return {key: self._keep(item, path + (key,)) for key, item in value.items()}
        if isinstance(value, list):
            return [self._keep(item, path + (index,)) for index, item in enumerate(value)]
        return value

    def _place(self, positions: Positions, source: Path, target: Path) -> None:
        for found, kept in ((positions.values, self.result.values), (positions.keys, self.result.keys)):
            if source in found:
                kept[target] = found[source]
        if source in positions.spelling:
            self.result.spelling[target] = positions.spelling[source]


def _shown_path(path: Path) -> str:
    from .loader import field_path  # the loader imports this module

    return field_path(path)
