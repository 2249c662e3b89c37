"""Strict YAML reading with source positions.

We compose ruamel.yaml's parse events into a light node graph of our own and build
plain Python data ourselves, so that we control what the YAML may contain: only the core schema's tags, no duplicate
keys, a single mapping or sequence document, and a bounded number of nodes (an alias
bomb expands exponentially when constructed naively). Every key and value gets a
1-based ``(line, col)`` keyed by its path, which later turns a pydantic error path
into ``file:line:col``. The files we render ourselves are read straight from the events
when they hold no anchors (they never do), and their positions are looked up only when
a finding needs one.
"""

from __future__ import annotations

import functools
import io
import math
import re
import sys
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Callable

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.composer import ComposerError
from ruamel.yaml.error import ReusedAnchorWarning
from ruamel.yaml.events import AliasEvent, DocumentStartEvent, MappingEndEvent, ScalarEvent, SequenceEndEvent, SequenceStartEvent
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver

from .errors import Location, clipped

#: Upper bound on constructed nodes, counting every alias expansion.
MAX_NODES = 100_000

Path = tuple[str | int, ...]

_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {_CORE + t for t in ("str", "int", "float", "bool", "null", "map", "seq", "merge", "timestamp", "value")}
# YAML 1.2 core schema integers; anything else a resolver calls an int is a string.
_INT_RE = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
#: Deepest nesting accepted; real profiles and artefacts stay far below it.
MAX_DEPTH = 64


class YamlSourceError(Exception):
    """Malformed or refused YAML; carries the position of the offending node."""

    def __init__(self, message: str, line: int = 0, col: int = 0):
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col


@dataclass
class Positions:
    """Where each path's key and value start. Paths from several files may mix, which
    is how a profile merged through ``extends`` keeps pointing at the right file."""

    file: str
    values: dict[Path, Location] = field(default_factory=dict)
    keys: dict[Path, Location] = field(default_factory=dict)
    #: How a scalar that YAML read as a number or boolean was spelt (``1.30`` for 1.3).
    spelling: dict[Path, str] = field(default_factory=dict)

    def value(self, path: Path) -> Location:
        # A missing field has no position of its own: point at its closest ancestor.
        while path not in self.values:
            if not path:
                return Location(self.file, 1, 1)
            path = path[:-1]
        return self.values[path]

    def key(self, path: Path) -> Location:
        return self.keys.get(path) or self.value(path)

    def overlaid(self, other: Positions) -> Positions:
        """Positions of ``other`` win wherever both files define a path."""
        return Positions(
            other.file, {**self.values, **other.values}, {**self.keys, **other.keys}, {**self.spelling, **other.spelling}
        )


class _Node:
    """One node of a document as the composer sees it: what the builder needs and no
    more. ruamel's own nodes carry two marks each (with a reference to the buffer):
    the node graph of a large rendered file took more memory than its data."""

    __slots__ = ("kind", "tag", "value", "line", "col")

    def __init__(self, kind: str, tag: str, value: Any, line: int, col: int):
        self.kind = kind  # "scalar", "sequence" or "mapping"
        self.tag = tag
        self.value = value  # the text; the items; the (key, value) pairs
        self.line = line  # 1-based, as every position we report
        self.col = col


def _pos(node: _Node) -> tuple[int, int]:
    return node.line, node.col


class _Composer:
    """ruamel's composer (events in, one node per document out), over our light nodes.

    Anchors behave as ruamel's do: an alias is the anchored node itself (so an alias
    inside its own anchor makes a cycle, which the builder's depth bound stops), an
    undefined alias is a ComposerError, and an anchor defined twice is a warning in the
    pure-Python composer and an error in libyaml's."""

    def __init__(self, events: Iterator[Any], scalar_tag: Callable[[str, tuple[bool, bool]], str], fast: bool,
                 scalars: bool = True):
        self.events = events
        self.scalar_tag = scalar_tag  # the resolved tag of an untagged scalar
        self.fast = fast
        self.scalars = scalars  # False: keep the text of keys only (a graph to look positions up in)
        self.anchors: dict[str, tuple[_Node, Any]] = {}  # anchor → its node and where it was set
        self.depth = 0

    def documents(self) -> list[_Node]:
        found = []
        for event in self.events:
            if type(event) is DocumentStartEvent:
                self.anchors = {}
                found.append(self._node(next(self.events)))
                next(self.events)  # its DocumentEndEvent
        return found

    def _node(self, event: Any, key: bool = False) -> _Node:
        kind = type(event)
        if kind is AliasEvent:
            if event.anchor not in self.anchors:
                raise ComposerError(None, None, f"found undefined alias {event.anchor!r}", event.start_mark)
            return self.anchors[event.anchor][0]
        anchor = event.anchor
        if anchor is not None and anchor in self.anchors:
            first = self.anchors[anchor][1]
            if self.fast:
                raise ComposerError("found duplicate anchor; first occurrence", first, "second occurrence", event.start_mark)
            warnings.warn(f"\nfound duplicate anchor {anchor!r}\nfirst occurrence {first}\nsecond occurrence {event.start_mark}",
                          ReusedAnchorWarning, stacklevel=2)
        mark = event.start_mark
        if self.depth > MAX_DEPTH:
            # The builder's bound, met here already: no document deeper than it is ever composed.
            raise YamlSourceError(f"nesting deeper than {MAX_DEPTH} levels", mark.line + 1, mark.column + 1)
        tag = event.ctag
        explicit = tag is not None and str(tag) != "!"
        if kind is ScalarEvent:
            text = event.value if self.scalars else sys.intern(event.value) if key else None
            node = _Node("scalar", str(tag) if explicit else self.scalar_tag(event.value, event.implicit), text,
                         mark.line + 1, mark.column + 1)
            if anchor is not None:
                self._anchor(anchor, node, event)
            return node
        sequence = kind is SequenceStartEvent
        node = _Node("sequence" if sequence else "mapping", str(tag) if explicit else _SEQ if sequence else _MAP, [],
                     mark.line + 1, mark.column + 1)
        if anchor is not None:
            self._anchor(anchor, node, event)
        self.depth += 1
        items = node.value
        events = self.events
        item = next(events)
        if sequence:
            while type(item) is not SequenceEndEvent:
                items.append(self._node(item))
                item = next(events)
        else:
            while type(item) is not MappingEndEvent:
                items.append((self._node(item, key=True), self._node(next(events))))
                item = next(events)
        self.depth -= 1
        return node

    def _anchor(self, anchor: str | None, node: _Node, event: Any) -> None:
        if anchor is not None:
            self.anchors[anchor] = (node, event.start_mark)


def decode_utf8(raw: bytes) -> str:
    """Decode strictly; a bad byte becomes a positioned error."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        line_start = before.rfind(b"\n") + 1
        col = len(before[line_start:].decode("utf-8", "replace")) + 1
        raise YamlSourceError(
            f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x} cannot start a character here)",
            line,
            col,
        ) from None


class _Builder:
    def __init__(self, positions: Positions, max_nodes: int, *, record: bool = True):
        self.positions = positions
        self.budget = self.limit = max_nodes
        self.record = record  # False: build the data only, and let positions be found later

    def build(self, node: _Node, path: Path) -> Any:
        if len(path) > MAX_DEPTH:
            line, col = _pos(node)
            raise YamlSourceError(f"nesting deeper than {MAX_DEPTH} levels", line, col)
        self.budget -= 1
        if self.budget < 0:
            line, col = _pos(node)
            raise YamlSourceError(
                f"document expands to more than {self.limit} nodes through aliases", line, col
            )
        if self.record and path not in self.positions.values:
            self.positions.values[path] = self._location(node)
        tag = node.tag
        if tag not in _ALLOWED_TAGS:
            line, col = _pos(node)
            raise YamlSourceError(f"YAML tag {clipped(tag)!r} is not allowed; only the core schema's tags are", line, col)
        if node.kind == "mapping":
            return self._mapping(node, path)
        if node.kind == "sequence":
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        try:
            value = _scalar(node.value, tag)
        except _TooManyDigits:
            raise YamlSourceError("integer has more than 100 digits", node.line, node.col) from None
        if isinstance(value, str):
            return sys.intern(value)  # as keys: images, ports and policies repeat across the files
        if self.record:
            self.positions.spelling.setdefault(path, str(node.value))
        return value

    def _location(self, node: _Node) -> Location:
        return Location(self.positions.file, node.line, node.col)

    def _mapping(self, node: _Node, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merges: list[_Node] = []
        # Explicit keys first, so that their positions win over merged-in ones.
        for key_node, value_node in node.value:
            tag = key_node.tag
            if tag == _CORE + "merge":
                merges.append(value_node)
                continue
            if tag not in _ALLOWED_TAGS:
                line, col = _pos(key_node)
                raise YamlSourceError(f"YAML tag {clipped(tag)!r} is not allowed; only the core schema's tags are", line, col)
            if key_node.kind != "scalar":
                line, col = _pos(key_node)
                raise YamlSourceError("mapping keys must be plain scalars", line, col)
            # Keys are names: `8000:` or `true:` become the strings they spell. A large
            # render repeats a few thousand names half a million times: keep one of each.
            key = sys.intern(str(key_node.value))
            if key in result:
                line, col = _pos(key_node)
                first = self.positions.keys.get(path + (key,))
                where = f"; it is set first at line {first.line}" if first is not None and first.file == self.positions.file else ""
                raise YamlSourceError(f"duplicate key {clipped(key)!r}{where}", line, col)
            if self.record:
                self.positions.keys.setdefault(path + (key,), self._location(key_node))
            result[key] = self.build(value_node, path + (key,))
        for merge in merges:
            for key, value in self._merge_sources(merge, path).items():
                result.setdefault(key, value)
        return result

    def _merge_sources(self, node: _Node, path: Path) -> dict[str, Any]:
        """YAML merge keys: earlier sources win, as do the mapping's own keys."""
        sources = node.value if node.kind == "sequence" else [node]
        merged: dict[str, Any] = {}
        for source in sources:
            value = self.build(source, path)
            if not isinstance(value, dict):
                line, col = _pos(source)
                raise YamlSourceError("a merge key (<<) needs a mapping or a list of mappings", line, col)
            for key, item in value.items():
                merged.setdefault(key, item)
        return merged


class _TooManyDigits(ValueError):
    pass


def _scalar(text: str, tag: str) -> Any:
    kind = tag[len(_CORE):]
    if kind in ("str", "timestamp", "value"):
        # YAML 1.2's core schema has no timestamps or `=`: they are the strings they spell.
        return text
    if kind == "null":
        return None
    if kind == "bool":
        # Only true/false are booleans in YAML 1.2; `!!bool yes` stays the string it
        # spells, so validation reports it instead of silently reading false.
        return {"true": True, "false": False}.get(text.lower(), text)
    if kind == "int":
        if not _INT_RE.fullmatch(text):
            return text  # e.g. 0b101 or 1_000: ints in YAML 1.1, strings in 1.2's core schema
        if len(text) > 100:
            raise _TooManyDigits
        return int(text, 0) if text.startswith(("0o", "0x")) else int(text)
    if kind == "float":
        lowered = text.lower().lstrip("+")
        if lowered in (".inf", "-.inf"):
            return -math.inf if lowered.startswith("-") else math.inf
        if lowered == ".nan":
            return math.nan
        try:
            return float(text.replace("_", ""))
        except ValueError:
            return text
    return text


def _at(mark: Any) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)


def _spaces(count: int) -> str:
    return f"{count} space" + ("" if count == 1 else "s")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _content(line: str) -> str:
    """A line without its indentation and list dashes: where a key would start."""
    return re.sub(r"^(\s*-\s+)*", "", line.strip())


def _has_key(line: str) -> bool:
    body = _content(line)
    return ": " in body or body.endswith(":")


def _in_plain_words(exc: MarkedYAMLError, text: str) -> tuple[str, int, int]:
    """The parser's complaint as a person would say it, at the line to fix: (message, line, col).

    The scanner and parser speak of tokens (``expected <block end>, but found
    '<block mapping start>'``); the common mistakes behind them are bad indentation, a
    tab, an unclosed quote or bracket, and a missing colon. What is recognised is
    translated; anything else keeps the parser's words.
    """
    problem, context = exc.problem or "", exc.context or ""
    line, col = _at(exc.problem_mark or exc.context_mark)
    lines = text.split("\n")
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    char = here[col - 1] if 0 < col <= len(here) else ""
    at_line_start = not here[: col - 1].strip()
    before = [(n, t) for n, t in enumerate(lines[: max(line - 1, 0)], 1) if t.strip() and not t.lstrip().startswith("#")]
    if "cannot start any token" in problem:
        if char == "\t":
            if at_line_start:
                return "a tab character indents this line; YAML indents with spaces only", line, col
            return "a tab character here; outside quotes and comments YAML separates with spaces", line, col
        if char:
            return f"{char!r} cannot start a plain value; put the value in quotes", line, col
    if "quoted scalar" in context and ("end of stream" in problem or "document" in problem):
        opened, opened_col = _at(exc.context_mark)
        quote = lines[opened - 1][opened_col - 1] if opened else '"'
        return f"unclosed quote: the {quote} here is never closed", opened, opened_col
    if "could not find expected ':'" in problem and exc.context_mark is not None:
        key_line, key_col = _at(exc.context_mark)
        return "missing ':' after the key on this line (write key: value)", key_line, key_col
    if "mapping values are not allowed" in problem:
        if ": " in _content(here[: col - 1]) or here[: col - 1].lstrip().startswith(("'", '"')):
            return "a value that contains ': ' must be in quotes", line, col
        if before:
            number, previous = before[-1]
            if not _has_key(previous):
                return "missing ':' after the key on this line (write key: value)", number, _indent(previous) + 1
            if _indent(here) > _indent(previous):
                return (
                    f"bad indentation: this line is indented more than line {number} above it, so it reads as part of "
                    "that line's value; line up the keys of one mapping",
                    line,
                    _indent(here) + 1,
                )
    if context in ("while parsing a block mapping", "while parsing a block collection") and at_line_start:
        parent, _ = _at(exc.context_mark)
        if context.endswith("mapping") and char == "-":
            return f"a list item where a key was expected: the mapping at line {parent} holds keys, not '- ' items", line, col
        if context.endswith("collection") and _has_key(here):
            return f"a key where a list item was expected: the list at line {parent} holds '- ' items", line, col
        levels = sorted({_indent(t) for _, t in before if _indent(t) != _indent(here)})
        if levels:
            shown = ", ".join(map(str, levels[:-1])) + (" or " if len(levels) > 1 else "") + str(levels[-1])
            return (
                f"bad indentation: this line is indented by {_spaces(_indent(here))}, which lines up with no key above it "
                f"(those are indented by {shown})",
                line,
                col,
            )
    if context == "while parsing a block mapping" and not at_line_start:
        quote = here[: col - 1].rstrip()[-1:]
        if quote in ("'", '"') and here[: col - 1].count(quote) % 2 == 1:
            # The quote that closes a string opened on an earlier line: that one is the mistake.
            start = next(((n, t) for n, t in reversed(before) if t.count(quote) % 2 == 1), None)
            if start is not None:
                return (
                    f"unclosed quote: the {quote} here is not closed on its line, so the string runs on to line {line}",
                    start[0],
                    start[1].rindex(quote) + 1,
                )
        return "unexpected text after a value on this line; put the whole value in quotes", line, col
    if context in ("while parsing a flow sequence", "while parsing a flow mapping") and exc.context_mark is not None:
        opened, opened_col = _at(exc.context_mark)
        bracket, closing = ("[", "]") if context.endswith("sequence") else ("{", "}")
        return (
            f"the {bracket!r} here is never closed: add {closing!r}, or a ',' between its items",
            opened,
            opened_col,
        )
    if "stream end" in problem or "expected node content" in problem:
        opener = _unclosed_bracket(text)
        if opener is not None:
            bracket, opened, opened_col = opener
            return f"the {bracket!r} here is never closed: the file ends inside it", opened, opened_col
        return "the file ends in the middle of a value", line, col
    if "undefined alias" in problem:
        name = re.match(r"\*([^\s,\[\]{}]+)", here[col - 1:] if col else "")
        alias = name.group(1) if name else "?"
        return f"*{alias} refers to no anchor: define &{alias} before it", line, col
    return problem or context or "malformed YAML", line, col


def _unclosed_bracket(text: str) -> tuple[str, int, int] | None:
    """The last '[' or '{' that nothing closes, outside quotes and comments: (bracket, line, col)."""
    stack: list[tuple[str, int, int]] = []
    for number, line in enumerate(text.split("\n"), 1):
        quote = ""
        for index, char in enumerate(line):
            if quote:
                if char == quote:
                    quote = ""
            elif char in "'\"" and (index == 0 or line[index - 1] in " \t[{,:"):
                quote = char
            elif char == "#" and (index == 0 or line[index - 1] in " \t"):
                break
            elif char in "[{":
                stack.append((char, number, index + 1))
            elif char in "]}" and stack:
                stack.pop()
    return stack[-1] if stack else None


_MAP, _SEQ, _STR, _MERGE = _CORE + "map", _CORE + "seq", _CORE + "str", _CORE + "merge"


@functools.cache
def _yaml12_matchers() -> dict[str | None, tuple[tuple[str, Callable[[str], Any]], ...]]:
    """ruamel's YAML 1.2 implicit resolvers, by a plain scalar's first character: each
    (tag, regexp match) to try, in order; None: for any other character."""
    table = VersionedResolver(version=(1, 2)).versioned_resolver
    anywhere = tuple((str(tag), regexp.match) for tag, regexp in table.get(None, ()))
    matchers: dict[str | None, tuple[tuple[str, Callable[[str], Any]], ...]] = {
        first: tuple((str(tag), regexp.match) for tag, regexp in resolvers) + anywhere
        for first, resolvers in table.items() if first is not None
    }
    matchers[None] = anywhere
    return matchers


def _yaml12_tag(value: str, implicit: tuple[bool, bool]) -> str:
    """A scalar's tag as ruamel resolves libyaml's scalars: always by YAML 1.2, since
    libyaml ignores ``%YAML`` directives. ruamel's resolver finds that version out anew
    for every scalar by catching an AttributeError, and makes a Tag object for each:
    that was half the time of reading a large file."""
    if implicit[0]:
        matchers = _yaml12_matchers()
        for tag, match in matchers.get(value[:1]) or matchers[None]:
            if match(value):
                return tag
    return _STR


def _compose_all(text: str, fast: bool, *, scalars: bool = True) -> list[_Node]:
    # fast: libyaml (ruamel.yaml.clib), about ten times quicker than the pure scanner,
    # with the same marks and tags, but YAML 1.1 syntax rules (no ':' inside flow
    # scalars). We parse our own artefacts with it, which also keeps them readable by
    # YAML 1.1 tools such as Go's; profiles, written by people, get full YAML 1.2.
    yaml = YAML(typ="safe", pure=not fast)
    resolver = yaml.resolver
    scalar_tag = _yaml12_tag if fast else (lambda value, implicit: str(resolver.resolve(ScalarNode, value, implicit)))
    try:
        return _Composer(yaml.parse(io.StringIO(text)), scalar_tag, fast, scalars).documents()
    except MarkedYAMLError as exc:
        message, line, col = _in_plain_words(exc, text)
        raise YamlSourceError(f"invalid YAML: {message}", line, col) from None
    except YAMLError as exc:
        raise YamlSourceError(f"invalid YAML: {exc}") from None


def load_yaml(text: str, file: str, *, max_nodes: int = MAX_NODES, fast: bool = False) -> tuple[Any, Positions]:
    """Parse one YAML document into plain data plus the position of every path."""
    return _single(load_yaml_stream(text, file, max_nodes=max_nodes, fast=fast), file)


def _single(documents: list[tuple[Any, Positions]], file: str) -> tuple[Any, Positions]:
    if len(documents) > 1:
        line = min(documents[1][1].values.values(), key=lambda loc: loc.line).line
        raise YamlSourceError("expected a single YAML document, found several", line, 1)
    return documents[0] if documents else (None, Positions(file))


def load_yaml_stream(
    text: str, file: str, *, max_nodes: int = MAX_NODES, fast: bool = False
) -> list[tuple[Any, Positions]]:
    """Parse a YAML stream (Kubernetes manifests) with positions per document. The
    node budget is shared by all documents."""
    return _stream(text, file, max_nodes, fast, record=True)


def _stream(text: str, file: str, max_nodes: int, fast: bool, *, record: bool) -> list[tuple[Any, Positions]]:
    builder = _Builder(Positions(file), max_nodes, record=record)
    result = []
    for document in _compose_all(text, fast):
        builder.positions = Positions(file)
        result.append((builder.build(document, ()), builder.positions))
    return result


class DeferredPositions(Positions):
    """One document's positions, found when first asked for. A rendered file needs
    them only to place a finding, and every node's position of a large render takes
    more memory than its data. A position is looked up in the document's node graph,
    composed once per file: building every path's position as well would hold the
    same information three times over. (The dictionaries ``values``, ``keys`` and
    ``spelling`` are built when asked for, as is every answer below a merge key.)"""

    def __init__(self, file: str, placer: _Placer, index: int):
        self._placer, self._index = placer, index
        self._built: Positions | None = None
        super().__init__(file)

    def value(self, path: Path) -> Location:
        found = self._placer.walk(self._index, path)
        if found is None:
            return self._all().value(path)
        node, _ = found
        return Location(self.file, node.line, node.col)

    def key(self, path: Path) -> Location:
        found = self._placer.walk(self._index, path)
        if found is None:
            return self._all().key(path)
        node, key_node = found
        shown = key_node if key_node is not None else node
        return Location(self.file, shown.line, shown.col)

    def _all(self) -> Positions:
        if self._built is None:
            self._built = self._placer.positions(self._index)
        return self._built

    # Positions.__init__ sets these three to empty dictionaries; read, they are built.

    @property
    def values(self) -> dict[Path, Location]:
        return self._all().values

    @values.setter
    def values(self, values: dict[Path, Location]) -> None:
        pass

    @property
    def keys(self) -> dict[Path, Location]:
        return self._all().keys

    @keys.setter
    def keys(self, keys: dict[Path, Location]) -> None:
        pass

    @property
    def spelling(self) -> dict[Path, str]:
        return self._all().spelling

    @spelling.setter
    def spelling(self, spelling: dict[Path, str]) -> None:
        pass


class _Placer:
    """The node graph of every document of one rendered stream, composed once, when a
    position is first asked for. Checks run in threads: the first to ask composes it
    while the others wait, rather than each holding a copy of a large file's graph."""

    def __init__(self, text: str, file: str, budget: int):
        self.text, self.file, self.budget = text, file, budget
        self.lock = threading.Lock()
        self.roots: list[_Node] | None = None
        self.mappings: dict[int, dict[str, tuple[_Node, _Node]] | None] = {}  # by id of a node of roots
        self.built: list[Positions] | None = None

    def walk(self, index: int, path: Path) -> tuple[_Node, _Node | None] | None:
        """The node at the longest prefix of ``path`` that document ``index`` has (as
        :meth:`Positions.value` falls back to the closest ancestor), and the key node of
        ``path`` itself when it is a mapping entry. None when a mapping on the way has
        a merge key: what it merges in has positions of its own, which only building says."""
        with self.lock:
            if self.roots is None:
                self.roots = _compose_all(self.text, True, scalars=False)
            node = self.roots[index]
        key_node = None
        for step in path:
            if node.kind == "mapping":
                entries = self._entries(node)
                if entries is None:
                    return None
                entry = entries.get(step) if isinstance(step, str) else None
                if entry is None:
                    return node, None
                key_node, node = entry
            elif node.kind == "sequence" and isinstance(step, int) and 0 <= step < len(node.value):
                key_node, node = None, node.value[step]
            else:
                return node, None
        return node, key_node

    def _entries(self, node: _Node) -> dict[str, tuple[_Node, _Node]] | None:
        """A mapping's (key node, value node) by key, made on first use (a compose file's
        services are looked up one by one); None when it has a merge key."""
        if id(node) not in self.mappings:
            pairs = node.value
            merges = any(key.tag == _MERGE for key, _ in pairs)
            self.mappings[id(node)] = None if merges else {str(key.value): (key, value) for key, value in pairs}
        return self.mappings[id(node)]

    def positions(self, index: int) -> Positions:
        """Every path's positions, as :func:`load_yaml_stream` gives them."""
        with self.lock:
            if self.built is None:
                self.built = [positions for _, positions in load_yaml_stream(self.text, self.file, max_nodes=self.budget, fast=True)]
            return self.built[index]


class _Unusual(Exception):
    """What the quick reader leaves to the composer and builder: an anchor, an alias, a
    merge key, or anything they would refuse, which they then word and place."""


def _quick_documents(text: str, budget: int) -> list[Any]:
    """The data of each document, built straight from libyaml's events, as the builder
    builds it from the node graph for a document without anchors or merge keys (our
    rendered files are such documents): the graph of a large file is never made."""
    events = YAML(typ="safe", pure=False).parse(io.StringIO(text))
    left = [budget]
    documents = []
    try:
        for event in events:
            if type(event) is DocumentStartEvent:
                documents.append(_quick(next(events), events, 0, left))
                next(events)  # its DocumentEndEvent
    except (YAMLError, _TooManyDigits) as exc:
        raise _Unusual from exc
    return documents


def _quick(event: Any, events: Iterator[Any], depth: int, left: list[int]) -> Any:
    kind = type(event)
    if kind is AliasEvent or event.anchor is not None or depth > MAX_DEPTH:
        raise _Unusual
    left[0] -= 1
    if left[0] < 0:
        raise _Unusual
    tag = event.ctag
    explicit = tag is not None and str(tag) != "!"
    if kind is ScalarEvent:
        tag = str(tag) if explicit else _yaml12_tag(event.value, event.implicit)
        if tag not in _ALLOWED_TAGS or tag == _MERGE:
            raise _Unusual
        value = _scalar(event.value, tag)
        return sys.intern(value) if isinstance(value, str) else value
    if explicit and str(tag) not in _ALLOWED_TAGS:
        raise _Unusual
    item = next(events)
    if kind is SequenceStartEvent:
        items = []
        while type(item) is not SequenceEndEvent:
            items.append(_quick(item, events, depth + 1, left))
            item = next(events)
        return items
    mapping: dict[str, Any] = {}
    while type(item) is not MappingEndEvent:
        if type(item) is not ScalarEvent or item.anchor is not None:
            raise _Unusual
        key_tag = item.ctag
        key_tag = str(key_tag) if key_tag is not None and str(key_tag) != "!" else _yaml12_tag(item.value, item.implicit)
        key = sys.intern(str(item.value))
        if key_tag not in _ALLOWED_TAGS or key_tag == _MERGE or key in mapping or depth + 1 > MAX_DEPTH:
            raise _Unusual
        mapping[key] = _quick(next(events), events, depth + 1, left)
        item = next(events)
    return mapping


def load_rendered_stream(text: str, file: str) -> list[tuple[Any, Positions]]:
    """Parse a YAML stream that we rendered: with libyaml, within a node budget that
    grows with the text (a render of many services is large, and without aliases a
    document cannot have more nodes than characters, so an alias bomb is still
    refused), and with :class:`DeferredPositions`."""
    budget = MAX_NODES + len(text)
    try:
        documents = _quick_documents(text, budget)
    except _Unusual:
        try:
            documents = [data for data, _ in _stream(text, file, budget, True, record=False)]
        except YamlSourceError:
            load_yaml_stream(text, file, max_nodes=budget, fast=True)  # the same error, worded with positions
            raise

    placer = _Placer(text, file, budget)
    return [(data, DeferredPositions(file, placer, index)) for index, data in enumerate(documents)]


def load_rendered(text: str, file: str) -> tuple[Any, Positions]:
    """:func:`load_rendered_stream` for a file of one document."""
    documents = load_rendered_stream(text, file)
    return _single(documents, file)

