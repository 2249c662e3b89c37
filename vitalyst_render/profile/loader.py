"""Read a profile file, resolve ``extends``, validate, and place every error.

Errors always read ``file:line:col: field.path: expected …, got …``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from ..errors import Location, ProfileError, UsageError
from ..timings import Phases
from ..yamlsource import Positions
from .files import display_path, profile_files, profile_path, profile_search_path, read_mapping, resolved
from .lock import image_sites, lock_path, locked_data, read_lock
from .merge import DroppedItems, Layer, merge_layers, outstanding_drops
from .models import Profile, ReferenceProblem
from .scalars import named
from .types import DNS_LABEL, UNQUOTED, shown, unquoted_scalar


def _profile_model() -> type[Profile]:
    # The roles registry imports the models; importing it here, late, keeps the
    # profile package importable on its own.
    from ..roles import profile_model

    return profile_model()

#: Longest ``extends`` chain we follow; deeper is almost certainly a mistake.
MAX_EXTENDS_DEPTH = 8


@dataclass(frozen=True)
class LoadedProfile:
    """A validated profile plus where it came from."""

    name: str
    path: Path
    profile: Profile
    chain: tuple[Path, ...]
    positions: Positions
    locks: tuple[Path, ...] = ()  # the image locks read with it: its own, then its parents'
    locked: tuple[str, ...] = ()  # repository:tag references whose digest came from a lock
    unpinned: str | None = None  # the nearest lock's reason why images are not pinned yet
    unpinned_at: Location | None = None
    dropped: tuple[DroppedItems, ...] = ()  # inherited list items that a layer's list left out
    phases: Phases = field(default=(), compare=False)  # seconds spent reading and validating it

    @property
    def digests_required(self) -> bool:
        """Prod pins every image by digest, unless its image lock says why it cannot yet."""
        return self.profile.environment.tier == "prod" and self.unpinned is None

    @property
    def digest(self) -> str:
        """sha256 of the resolved profile in canonical JSON: identifies the render input."""
        canonical = json.dumps(self.profile.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def load_profile(
    name_or_path: str | Path,
    *,
    profiles_dir: Path | None = None,
    use_lock: bool = True,
    values: Sequence[str | Path] = (),
    overrides: Sequence[str] = (),
) -> LoadedProfile:
    """Load a profile by name or by path to a YAML file.

    A name, and every ``extends``, resolves on the search path: ``profiles_dir`` alone
    when given, else ``./profiles`` of the working directory, then the bundled
    profiles. The profile's name is its file's stem. Over the profile, each file of
    ``values`` is applied in order (an overlay: the same YAML as a profile, without
    ``extends`` or ``abstract``), then each ``overrides`` item (``path=value``, as
    ``--set`` takes it, typed by the model). The image locks beside the file and
    beside each profile it extends (``<name>.lock.yaml``, written by ``render pin``)
    fill in the digests the profile leaves out, the nearest lock first, unless
    ``use_lock`` is false.
    """
    started = time.perf_counter()
    name_or_path, profiles_dir, use_lock, values, overrides = _arguments(name_or_path, profiles_dir, use_lock, values, overrides)
    search = profile_search_path(profiles_dir)
    if isinstance(name_or_path, Path) or "/" in str(name_or_path) or str(name_or_path).endswith((".yaml", ".yml")):
        path = Path(name_or_path)
        try:
            os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            raise UsageError(f"profile file not found or not a regular file: {display_path(path)}") from None
        except OSError:
            pass  # a symlink loop, a name too long: reading the file words it
    else:
        path = profile_path(str(name_or_path), profiles_dir)
    name = path.stem
    if not re.fullmatch(DNS_LABEL, name):
        raise UsageError(
            f"profile file name {named(path.name)} must be a DNS-1123 label plus .yaml (it names the output folder)",
            Location(display_path(path)),
        )
    layer, chain = _resolve(path, search, ())
    if layer.data.pop("abstract", False) is True:
        raise UsageError(f"profile {name!r} is abstract: other profiles extend it, but it is not rendered itself")
    for file in values:
        layer = merge_layers(layer, _read_values(Path(file)), overlay=True)
    if overrides:
        from .overrides import override_layer  # it imports this module

        for text in overrides:
            layer = merge_layers(layer, override_layer(text, layer.data), overlay=True)
    data, positions, dropped = layer.data, layer.positions, outstanding_drops(layer)
    read = time.perf_counter()
    profile = _validate(data, positions)
    validated = time.perf_counter()
    locks = tuple(lock for file in chain if (lock := read_lock(lock_path(file))) is not None) if use_lock else ()
    if not locks:
        phases = (("read", read - started), ("validate", validated - read))
        return LoadedProfile(name, path, profile, chain, positions, dropped=dropped, phases=phases)
    filled, locked, origins = locked_data(data, image_sites(profile), locks)
    locks_read = time.perf_counter()
    if locked:
        positions = Positions(positions.file, {**positions.values, **origins}, positions.keys, positions.spelling)
        profile = _validate(filled, positions)
    phases = (("read", read - started + locks_read - validated), ("validate", validated - read + time.perf_counter() - locks_read))
    nearest = locks[0]
    return LoadedProfile(name, path, profile, chain, positions, tuple(lock.path for lock in locks), locked, nearest.unpinned,
                         nearest.unpinned_at, dropped, phases)


def _arguments(name_or_path: object, profiles_dir: object, use_lock: object, values: object,
               overrides: object) -> tuple[str | Path, Path | None, bool, tuple[Path, ...], tuple[str, ...]]:
    """:func:`load_profile`'s arguments, checked (see :mod:`vitalyst_render.boundary`)."""
    from .. import boundary

    where = "load_profile(): "
    expected = "a profile name or a path to a profile file (str or os.PathLike)"
    if isinstance(name_or_path, str) and not name_or_path:
        raise UsageError(f"{where}name_or_path must be {expected}, got an empty string")
    if not isinstance(name_or_path, str):
        name_or_path = boundary.path(name_or_path, where + "name_or_path") if isinstance(name_or_path, os.PathLike) else name_or_path
        if not isinstance(name_or_path, Path):
            raise boundary.refuse(where + "name_or_path", expected, name_or_path)
    elif "\0" in name_or_path:
        raise UsageError(f"{where}name_or_path must be {expected}, got a string with a NUL byte")
    folder = boundary.optional_path(profiles_dir, where + "profiles_dir")
    lock = boundary.flag(use_lock, where + "use_lock")
    files = tuple(Path(f) for f in boundary.items(values, where + "values", "a list of paths to values files", paths=True))
    sets = boundary.items(overrides, where + "overrides", "a list of path=value strings")
    return name_or_path, folder, lock, files, sets


def _read_values(path: Path) -> Layer:
    """A ``--values`` file: an overlay of values, which cannot change what profile it overlays."""
    data, positions = read_mapping(path, "values file")
    refuse_profile_keys(data, positions, "a --values file")
    return Layer(data, positions)


def refuse_profile_keys(data: dict[str, Any], positions: Positions, what: str) -> None:
    """``extends`` and ``abstract`` say what a profile file is; an overlay only changes values."""
    for key in data:
        if str(key).rstrip("+") in ("extends", "abstract"):
            raise ProfileError(
                f"{what} cannot set {key}: it changes values of the profile it is applied to, not which profile that is",
                positions.key((key,)),
                str(key),
            )


def _resolve(path: Path, search: Sequence[Path], seen: tuple[Path, ...]) -> tuple[Layer, tuple[Path, ...]]:
    data, positions = read_mapping(path)
    chain = seen + (resolved(path),)
    if seen:
        # `abstract` describes one file and is never inherited.
        data.pop("abstract", None)
    parent_name = data.pop("extends", None)
    if parent_name is None:
        # Nothing inherited: a `key+` here has nothing to append to, which the merge refuses.
        return merge_layers(Layer({}, Positions(positions.file)), Layer(data, positions)), chain
    where = positions.value(("extends",))
    if not isinstance(parent_name, str) or not re.fullmatch(DNS_LABEL, parent_name):
        raise ProfileError(f"expected a profile name, got {shown(parent_name)}", where, "extends")
    parent_path = profile_files(search).get(parent_name)
    if parent_path is None:
        known = ", ".join(profile_files(search)) or "none"
        raise ProfileError(f"unknown profile {named(parent_name)} (known: {known})", where, "extends")
    if resolved(parent_path) in chain:
        cycle = " -> ".join(p.stem for p in chain + (parent_path,))
        shadowed = [folder for folder in search if resolved(folder / f"{parent_name}.yaml") != resolved(parent_path)
                    and (folder / f"{parent_name}.yaml").is_file()]
        hint = (f"; {display_path(parent_path)} hides {display_path(shadowed[0] / f'{parent_name}.yaml')}: give it another name"
                if shadowed else "")
        raise ProfileError(f"extends cycle: {cycle}{hint}", where, "extends")
    if len(chain) > MAX_EXTENDS_DEPTH:
        raise ProfileError(f"extends chain deeper than {MAX_EXTENDS_DEPTH}", where, "extends")
    parent, chain = _resolve(parent_path, search, chain)
    return merge_layers(parent, Layer(data, positions)), chain


def _validate(data: dict[str, Any], positions: Positions) -> Profile:
    try:
        return _profile_model().model_validate(data)
    except ValidationError as exc:
        # Report the first problem in document order: the one a reader meets first. At
        # one position, a bad key comes before what is missing below it.
        errors = exc.errors(include_url=False)
        placed = sorted((_placed(dict(error), positions) for error in errors), key=_document_order)
        raise placed[0] from None


def _document_order(error: _Placed) -> tuple[str, int, int, int]:
    where = error.location or Location("")
    return (where.file, where.line, where.col, error.field_rank)


def field_path(loc: tuple[str | int, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


class _Placed(ProfileError):
    field_rank = 1


class _PlacedKey(_Placed):
    field_rank = 0


def _untagged(loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """``loc`` without the segment a discriminated union adds: the kind after a service name."""
    if len(loc) > 2 and loc[0] == "services":
        return loc[:2] + loc[3:]
    return loc


def _placed(error: dict[str, Any], positions: Positions) -> _Placed:
    # Dict-key validation adds a "[key]" segment after the key it validates.
    if "[key]" in error["loc"]:
        loc = _untagged(tuple(part for part in error["loc"] if part != "[key]"))
        return _PlacedKey(_message(error), positions.key(loc), field_path(loc))
    tagged = tuple(error["loc"])
    loc = _untagged(tagged)
    kind = error["type"]
    problem = (error.get("ctx") or {}).get("error")
    if isinstance(problem, ReferenceProblem):
        loc = loc + problem.path
        return _Placed(problem.message, positions.value(loc), field_path(loc))
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        kinds = ", ".join(_kinds())
        if kind == "union_tag_not_found":
            return _Placed(f"a service needs a kind: one of {kinds}", positions.key(loc) if loc else positions.value(()), field_path(loc))
        got = shown((error.get("ctx") or {}).get("tag"))
        return _Placed(f"expected a kind of {kinds}, got {got}", positions.value(loc + ("kind",)), field_path(loc + ("kind",)))
    if kind == "extra_forbidden":
        allowed = _allowed_keys(tagged[:-1])
        close = difflib.get_close_matches(str(loc[-1])[:200], allowed, n=1)
        if close:
            hint = f"; did you mean {close[0]!r}?"
        else:
            hint = f"; expected one of: {', '.join(allowed)}" if allowed else ""
        return _PlacedKey(f"unknown key {named(loc[-1])}{hint}", positions.key(loc), field_path(loc))
    if kind == "missing":
        where = positions.key(loc[:-1]) if len(loc) > 1 else positions.value(())
        return _Placed("required field is missing", where, field_path(loc))
    spelling = positions.spelling.get(loc)
    quoted = _quote_it(error, spelling) if spelling is not None else None
    return _Placed(quoted or _message(error), positions.value(loc), field_path(loc))


def _quote_it(error: dict[str, Any], spelling: str) -> str | None:
    """For text given as a number or boolean (an unquoted ``1.30``), what to write instead,
    in the spelling of the YAML: the value pydantic saw is already the number 1.3."""
    kind, value = error["type"], error.get("input")
    ctx = error.get("ctx") or {}
    if not unquoted_scalar(value):
        return None
    if kind == UNQUOTED:
        expected = str(ctx.get("expected"))
    elif kind == "string_type":
        expected = "a string"
    elif kind == "literal_error" and f"'{spelling}'" in str(ctx.get("expected")):
        expected = str(ctx.get("expected"))
    else:
        return None
    reading = "a boolean" if isinstance(value, bool) else "a number" if spelling == shown(value) else f"the number {shown(value)}"
    return f'expected {expected}; write "{spelling}" in quotes — YAML reads {spelling} as {reading}'


_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
}


def _message(error: dict[str, Any]) -> str:
    kind = error["type"]
    got = shown(error.get("input"))
    ctx = error.get("ctx") or {}
    if kind in ("vr", UNQUOTED):
        return str(error["msg"])
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {got}"
    if kind == "literal_error":
        return f"expected {ctx.get('expected')}, got {got}"
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length')} item(s), got {ctx.get('actual_length')}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        sign = {"greater_than": ">", "greater_than_equal": "≥", "less_than": "<", "less_than_equal": "≤"}[kind]
        bound = next(iter(ctx.values()))
        return f"expected a value {sign} {bound}, got {got}"
    message = str(error.get("msg", "invalid value"))
    return message[:1].lower() + message[1:]


def _kinds() -> list[str]:
    from ..roles import registry

    return list(registry())


def _allowed_keys(loc: tuple[str | int, ...]) -> list[str]:
    """Field names of the model at ``loc`` (a location as pydantic reports it, with the
    kind of a service in it), to suggest the right spelling."""
    annotation = unwrap_annotation(annotation_at(loc))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        # As a profile spells them: a field with an alias (build.from) is written by its alias.
        return [field.alias or name for name, field in annotation.model_fields.items()]
    return []


def annotation_at(loc: tuple[str | int, ...]) -> Any:
    """The type the profile model expects at ``loc`` (a location as pydantic reports it,
    with the kind of a service after its name); None where the model has no such field.
    A mapping or list is entered whatever the key or index."""
    annotation: Any = _profile_model()
    for part in loc:
        annotation = unwrap_annotation(annotation)
        if get_origin(annotation) in (Union, UnionType):
            annotation = next(
                (m for m in get_args(annotation) if unwrap_annotation(m.model_fields["kind"].annotation) == Literal[part]),
                None,
            )
            if annotation is None:
                return None
            continue
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = next((f for name, f in annotation.model_fields.items() if part in (name, f.alias)), None)
            if field is None:
                return None
            annotation = field.annotation
        elif get_origin(annotation) in (dict, list):
            annotation = get_args(annotation)[-1]
        else:
            return None
    return annotation


def unwrap_annotation(annotation: Any) -> Any:
    # Optional[Model] and Annotated[...] hide the model we want.
    origin = get_origin(annotation)
    if origin is Annotated:
        return unwrap_annotation(get_args(annotation)[0])
    if origin in (Union, UnionType):
        options = [arg for arg in get_args(annotation) if arg is not type(None)]
        return unwrap_annotation(options[0]) if len(options) == 1 else annotation
    return annotation
