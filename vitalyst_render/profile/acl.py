"""Redis ACL rules as a profile may write them: what a user may run and touch, nothing else.

The render writes each user's line of the ACL file itself (``user NAME on #HASH
resetchannels RULES``): the user is on, its one password is the hash of its secret, and
it starts with nothing. The profile's rules only add to that what the user may run (the
command and category rules), which keys and channels it may touch, and selectors of the
same. Every other rule Redis 7 takes would change the user the render made: ``nopass``
lets any password in, ``>pw`` / ``<pw`` / ``#hash`` / ``!hash`` / ``resetpass`` put
passwords in the profile or take the secret's away, ``on`` / ``off`` / ``reset`` flip or
wipe the user, and ``resetkeys`` / ``resetchannels`` / ``clearselectors`` undo rules
written before them (write only the rules the user keeps). Each is refused by name.

The grammar follows ``ACL SETUSER`` in Redis 7.0 (the server VR907 boots): keywords are
case-insensitive, the ACL file is split on spaces (with quotes read as quoting, so
quotes are refused), and a selector is ``(`` rules ``)`` written across tokens.
"""

from __future__ import annotations

import re

#: The command categories of Redis 7.0 (``ACL CAT``).
CATEGORIES = (
    "admin", "all", "bitmap", "blocking", "connection", "dangerous", "fast", "geo", "hash", "hyperloglog",
    "keyspace", "list", "pubsub", "read", "scripting", "set", "slow", "sortedset", "stream", "string",
    "transaction", "write",
)
ALLOWED = (
    "+cmd, -cmd, +cmd|sub, -cmd|sub, +@category, -@category, allcommands, nocommands, ~pattern, %R~pattern, "
    "%W~pattern, %RW~pattern, allkeys, &pattern, allchannels, (selector rules)"
)
_KEYWORDS = ("allcommands", "nocommands", "allkeys", "allchannels")
#: Rules Redis knows that our model refuses, and why.
_REFUSED = {
    "nopass": "lets any password log in as this user",
    "resetpass": "removes the password from the user's secret",
    "on": "is written by the render: every user is on",
    "off": "would turn the user off; remove the user instead",
    "reset": "would wipe the user the render sets up",
    "resetkeys": "undoes the key rules before it; write only the key rules the user keeps",
    "resetchannels": "undoes the channel rules before it; write only the channel rules the user keeps",
    "clearselectors": "undoes the selectors before it; write only the selectors the user keeps",
    "sanitize-payload": "is a flag, not a command, key or channel rule",
    "skip-sanitize-payload": "would let RESTORE load payloads unchecked",
}
_PASSWORDS = {
    ">": "puts a password in the profile",
    "<": "names a password in the profile",
    "#": "puts a password hash in the profile",
    "!": "names a password hash in the profile",
}
_COMMAND = re.compile(r"[+-][A-Za-z][A-Za-z0-9_.-]*(\|[A-Za-z0-9_.:-]+)?")
_CATEGORY = re.compile(r"[+-]@(?P<name>[A-Za-z]+)")
_KEY_PATTERN = re.compile(r"(~|%(?P<flags>[A-Za-z]*)~)(?P<pattern>.*)")
#: Printable ASCII but space: the ACL file splits on spaces.
_PRINTABLE = re.compile(r"[!-~]+")


class AclRuleError(ValueError):
    """One rule (or selector) that our model does not allow: what was found, and why, on one line
    (``got …``; :data:`EXPECTED` says what is allowed)."""


#: What a profile's ACL rules may hold, for the ``expected …`` half of an error.
EXPECTED = f"ACL rules of commands, keys and channels ({ALLOWED})"


def _refuse(token: str, why: str) -> AclRuleError:
    return AclRuleError(f"got {token!r}, which {why}")


def parse_acl_rules(text: str) -> tuple[str, ...]:
    """The rules of ``text`` in order, each selector as one item ``(…)`` with single spaces.

    >>> parse_acl_rules("+ping  ~cache:* (%R~s:* +get)")
    ('+ping', '~cache:*', '(%R~s:* +get)')
    >>> parse_acl_rules("+ping nopass")
    Traceback (most recent call last):
    ...
    vitalyst_render.profile.acl.AclRuleError: got 'nopass', which lets any password log in as this user
    """
    rules: list[str] = []
    selector: list[str] | None = None
    for token in text.split(" "):
        if not token:
            continue
        if selector is None and token.startswith("("):
            selector, token = [], token[1:]
            if token.endswith(")"):  # "(+get)" in one token
                rules.append(_selector([token[:-1]] if token[:-1] else []))
                selector = None
                continue
            if token:
                selector.append(token)
            continue
        if selector is not None:
            if token.endswith(")"):
                if token[:-1]:
                    selector.append(token[:-1])
                rules.append(_selector(selector))
                selector = None
            else:
                selector.append(token)
            continue
        _rule(token)
        rules.append(token)
    if selector is not None:
        raise AclRuleError(f"got the selector {_masked(selector)!r} without its closing ')'")
    return tuple(rules)


def _masked(tokens: list[str], closed: bool = False) -> str:
    """A selector as an error quotes it: a password token shows only its mark (``>…``)."""
    return "(" + " ".join(t[0] + "…" if t[:1] in _PASSWORDS else t for t in tokens) + (")" if closed else "")


def _selector(tokens: list[str]) -> str:
    if not tokens:
        raise AclRuleError("got an empty selector '()', which grants nothing")
    for token in tokens:
        if "(" in token or ")" in token:
            raise AclRuleError(f"got the selector {_masked(tokens, closed=True)!r} with a parenthesis inside; selectors do not nest")
        _rule(token)
    return "(" + " ".join(tokens) + ")"


def _rule(token: str) -> None:
    """Refuse ``token`` unless it is a command, category, key or channel rule."""
    if token[0] in _PASSWORDS:  # never quote what follows: it may be a real password
        raise _refuse(token[0] + "…", _PASSWORDS[token[0]] + "; passwords live in the user's secret, as hashes")
    if not _PRINTABLE.fullmatch(token):
        raise _refuse(token, "holds characters other than printable ASCII")
    if "'" in token or '"' in token:
        raise _refuse(token, "holds a quote, read as quoting in the ACL file")
    lower = token.lower()
    if lower in _REFUSED:
        raise _refuse(token, _REFUSED[lower])
    if lower in _KEYWORDS:
        return
    category = _CATEGORY.fullmatch(token)
    if category is not None:
        if category["name"].lower() not in CATEGORIES:
            raise AclRuleError(f"got {token!r}, which names no Redis 7 category (the categories: {', '.join(CATEGORIES)})")
        return
    if _COMMAND.fullmatch(token):
        return
    keys = _KEY_PATTERN.fullmatch(token)
    if keys is not None:
        flags = keys["flags"]
        if flags is not None and (not flags or sorted(flags.upper()) not in (["R"], ["W"], ["R", "W"])):
            raise _refuse(token, "has key permissions other than R, W or RW")
        _pattern(token, keys["pattern"])
        return
    if token.startswith("&"):
        _pattern(token, token[1:])
        return
    if token[0] in "+-":
        raise _refuse(token, "is not a command name (+cmd or +cmd|sub) or a category (+@category)")
    raise _refuse(token, "is not a rule our model allows")


def _pattern(token: str, pattern: str) -> None:
    if not pattern:
        raise _refuse(token, "has no pattern")
    if "(" in pattern or ")" in pattern:
        raise _refuse(token, "holds a parenthesis, read as a selector in the ACL file")
