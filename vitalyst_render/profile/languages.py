"""Profile types for values that reach a query or pattern language (issue 15, class 3).

A value is either typed to what its language reads as one name, or it is free text that
the engine quotes (:mod:`vitalyst_render.promql` for PromQL, ``shlex.quote`` for shell).
Here are the typed ones:

* :data:`LabelName`: a Prometheus label name, as PromQL writes it unquoted in a matcher
  (``[a-zA-Z_][a-zA-Z0-9_]*``, and not ``__…``, which Prometheus keeps for itself);
* :data:`PromRegex`: a regex that Prometheus compiles (Go's RE2 syntax, anchored) and
  that Python's ``re`` reads the same way: the common subset of both, so the checks and
  tests that evaluate it in Python see what Prometheus sees. It is quoted as a PromQL
  string by the engine wherever it is used.
"""

from __future__ import annotations

import re
import string
import warnings
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from ..promql import LABEL_NAME
from .types import _fail, _unquoted, shown, unquoted_scalar

_LABEL = re.compile(LABEL_NAME)
_LABEL_EXPECTED = "a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)"


def _label_name(value: Any) -> str:
    if unquoted_scalar(value):
        raise _unquoted(_LABEL_EXPECTED, value)
    if not isinstance(value, str) or not _LABEL.fullmatch(value) or value.startswith("__"):
        raise _fail(_LABEL_EXPECTED, value)
    return value


#: Longest regex accepted: status patterns are short, and a bound keeps RE2's program small.
REGEX_MAX = 200
#: RE2 refuses a repeat count above 1000; nested counted repeats multiply, and their
#: product is held to the same bound so RE2's program size limit is never reached.
REPEAT_MAX = 1000
_REGEX_EXPECTED = "a regex that Prometheus (RE2) reads, such as 5.. or 5..|429"
#: Escapes both engines read alike, outside and inside a character class; any ASCII
#: punctuation escapes itself.
_ESCAPES = set("dDsSwWtnrfv")
_ESCAPES_OUTSIDE = _ESCAPES | set("bBA")
_GROUP = re.compile(r"\(\?(?::|P<[A-Za-z_][A-Za-z0-9_]*>|[ims]+:|[ims]+\))")
_COUNT = re.compile(r"\{([0-9]*)(?:(,)([0-9]*))?\}")


def re2_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a regex that RE2 and Python's ``re`` both accept and read
    alike (as text for "got …: <why>"); None when it is one."""
    if not pattern:
        return "an empty regex (it matches only a missing label)"
    if len(pattern) > REGEX_MAX:
        return f"a regex of {len(pattern)} characters; at most {REGEX_MAX}"
    if any(0xD800 <= ord(c) <= 0xDFFF for c in pattern):
        return "a lone surrogate, which is not valid Unicode"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nested sets and set operations: read differently by RE2
        try:
            re.compile(pattern)
        except re.error as exc:
            return f"not a regex: {exc.msg}" + (f" at position {exc.pos}" if exc.pos is not None else "")
        except (FutureWarning, DeprecationWarning) as exc:
            return f"an ambiguous character class ({exc})"
    return _re2_subset(pattern)


def _re2_subset(pattern: str) -> str | None:
    """The constructs Python accepts and RE2 does not (or reads otherwise). ``pattern``
    already compiles in Python, so its brackets balance."""
    n = len(pattern)
    weights = [1]  # per open group: the largest product of counted repeats inside it
    atom: int | None = None  # weight of what a quantifier would repeat; None: nothing
    repeated = lazy = False  # the last token was a quantifier; and it took its lazy ?
    i = 0
    while i < n:
        c = pattern[i]
        if c == "\\":
            problem, length = _escape(pattern, i, inside=False)
            if problem:
                return problem
            i, atom, repeated = i + length, 1, False
            continue
        if c == "[":
            i, problem = _class_end(pattern, i)
            if problem:
                return problem
            atom, repeated = 1, False
            continue
        if c == "(":
            length = 1
            if pattern.startswith("(?", i):
                group = _GROUP.match(pattern, i)
                if group is None:
                    return ("a group other than (...), (?:...), (?P<name>...) or i/m/s flags: lookarounds, "
                            "atomic groups, conditionals and comments are not RE2")
                length = len(group.group())
                if group.group().endswith(")"):  # flags for the rest of the group, no group of its own
                    i, atom, repeated = i + length, None, False
                    continue
            weights.append(1)
            i, atom, repeated = i + length, None, False
            continue
        if c == ")":
            inner = weights.pop()
            weights[-1] = max(weights[-1], inner)
            i, atom, repeated = i + 1, inner, False
            continue
        if c == "|":
            i, atom, repeated = i + 1, None, False
            continue
        count = _COUNT.match(pattern, i) if c == "{" else None
        if count is not None and count.group(1) == "" and count.group(2):
            return f"the repeat {count.group()}; RE2 reads it as text: write {{0,{count.group(3)}}}"
        if c in "*+?" or (count is not None and count.group(1) != ""):
            if repeated:
                if c == "?" and not lazy:
                    i, lazy = i + 1, True
                    continue
                return "a repeat of a repeat (a possessive or nested quantifier), which RE2 refuses"
            if atom is None:
                return "a quantifier with nothing to repeat"
            if count is not None:
                low = int(count.group(1))
                high = int(count.group(3)) if count.group(3) else low
                if max(low, high) > REPEAT_MAX:
                    return f"the repeat count {max(low, high)}; RE2 allows at most {REPEAT_MAX}"
                weight = atom * max(low, high, 1)
                if weight > REPEAT_MAX:
                    return f"nested repeats of {weight} copies; at most {REPEAT_MAX}"
                weights[-1] = max(weights[-1], weight)
                i += len(count.group())
            else:
                i += 1
            repeated, lazy = True, False
            continue
        i, atom, repeated = i + 1, 1, False
    return None


def _escape(pattern: str, i: int, inside: bool) -> tuple[str | None, int]:
    """The problem with the escape at ``i`` (None when both engines read it alike) and its length."""
    nxt = pattern[i + 1] if i + 1 < len(pattern) else ""
    if nxt and nxt in string.punctuation:
        return None, 2
    if nxt in (_ESCAPES if inside else _ESCAPES_OUTSIDE) and nxt:
        return None, 2
    if nxt == "x" and re.fullmatch("[0-9a-fA-F]{2}", pattern[i + 2:i + 4]):
        return None, 4
    if nxt.isdigit():
        return f"the escape \\{nxt}: backreferences and octal escapes are not RE2", 2
    return f"the escape {shown(pattern[i:i + 2])}, which RE2 does not read as Python does", 2


def _class_end(pattern: str, start: int) -> tuple[int, str | None]:
    """The index after the character class at ``start``, or the problem inside it."""
    i = start + 1
    if pattern.startswith("^", i):
        i += 1
    first = i
    while True:
        c = pattern[i]  # the class is closed: Python compiled the pattern
        if c == "\\":
            problem, length = _escape(pattern, i, inside=True)
            if problem:
                return i, problem
            i += length
            continue
        if c == "[":
            return i, "a [ inside a character class (RE2 reads [:name:] classes there)"
        if c == "]" and i > first:
            return i + 1, None
        i += 1


def _regex(value: Any) -> str:
    if unquoted_scalar(value):
        raise _unquoted(_REGEX_EXPECTED, value)
    if not isinstance(value, str):
        raise _fail(_REGEX_EXPECTED, value)
    problem = re2_problem(value)
    if problem is not None:
        raise PydanticCustomError(
            "vr", "expected {expected}, got {got}: {problem}", {"expected": _REGEX_EXPECTED, "got": shown(value), "problem": problem}
        )
    return value


LabelName = Annotated[
    str, BeforeValidator(_label_name), WithJsonSchema({"type": "string", "pattern": LABEL_NAME, "not": {"pattern": "^__"}})
]
PromRegex = Annotated[str, BeforeValidator(_regex), WithJsonSchema({"type": "string", "minLength": 1, "maxLength": REGEX_MAX})]
