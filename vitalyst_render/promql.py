"""PromQL text made from values: the one place a value becomes part of an expression.

Rules, their unit tests and dashboards are written as PromQL in Python (the monitoring
plan and the roles). A value from a profile (a namespace, a job, a status regex, a
scrape target) enters an expression only through these functions, so it is read back as
exactly one string literal and can never close its quote and add a matcher, an
operator or another expression:

* :func:`string` is a double-quoted string literal, escaped the way the PromQL lexer
  reads escapes (Go's ``strconv.Unquote`` rules, which promql-parser follows too);
* :func:`matcher` and :func:`selector` are label matchers whose names must be label
  names (``[a-zA-Z_][a-zA-Z0-9_]*``) and whose values are :func:`string` literals;
* :func:`alternation` is a regex (RE2, which Prometheus anchors) that matches exactly
  the given values: each is escaped as a literal, then the regex is quoted like any
  string.

>>> string('5.."} or vector(1)')
'"5..\\\\"} or vector(1)"'
>>> selector({"job": "backend", "instance": "a\\nb"})
'{job="backend", instance="a\\\\nb"}'
>>> matcher("job", alternation(["api", "web.v2"]), "=~")
'job=~"api|web\\\\\\\\.v2"'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Literal

#: A Prometheus label name (the classic charset, which every PromQL reader accepts).
LABEL_NAME = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
_LABEL_NAME = re.compile(LABEL_NAME)

MatchOp = Literal["=", "!=", "=~", "!~"]

_NAMED = {"\\": "\\\\", '"': '\\"', "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}
#: Characters written as an escape: control characters (C0, DEL, C1), format characters
#: (which some readers strip, such as a BOM) and Unicode's line and paragraph separators.
_ESCAPED_CATEGORIES = ("Cc", "Cf", "Zl", "Zp")


def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        raise ValueError(f"a PromQL string cannot hold the lone surrogate U+{code:04X}")
    if unicodedata.category(char) not in _ESCAPED_CATEGORIES:
        return char
    if code < 0x80:
        return f"\\x{code:02x}"  # \x is a byte: only ASCII stays valid UTF-8
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def string(value: str) -> str:
    """A double-quoted PromQL string literal that the PromQL lexer reads back as exactly ``value``."""
    if not isinstance(value, str):
        raise TypeError(f"a PromQL string literal is made from a str, not {type(value).__name__}")
    return '"' + "".join(_escape(char) for char in value) + '"'


def label_name(name: str) -> str:
    """``name`` when it is a label name; a ValueError otherwise (the profile types refuse
    such names before they get here)."""
    if not isinstance(name, str) or not _LABEL_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)")
    return name


def matcher(label: str, value: str, op: MatchOp = "=") -> str:
    """One label matcher: ``label op "value"``."""
    return f"{label_name(label)}{op}{string(value)}"


def selector(labels: Mapping[str, str]) -> str:
    """``{a="x", b="y"}``: a series selector (or a promtool input series' labels) of equality matchers."""
    return "{" + ", ".join(matcher(name, value) for name, value in labels.items()) + "}"


#: RE2's metacharacters outside a character class; everything else is itself.
_RE2_SPECIAL = re.compile(r"([\\.+*?()|\[\]{}^$])")


def regex_literal(value: str) -> str:
    """A regex (RE2) that matches exactly ``value``: its metacharacters backslash-escaped."""
    return _RE2_SPECIAL.sub(r"\\\1", value)


def alternation(values: Iterable[str]) -> str:
    """A regex matching exactly one of ``values`` (Prometheus anchors regex matchers)."""
    return "|".join(regex_literal(value) for value in values)
