"""What a credential looks like: the one detector that VR606 runs over every generated
file and the profile model runs over every text of a profile (outside ``env``).

Pure functions over strings (no pydantic, no I/O), so the profile types and the checks
share them without importing each other. Nothing here returns a message that holds the
credential it found: :attr:`Leak.secret` is for tracing it, never for showing it.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

#: Words that announce a credential in a variable or key name, matched as whole
#: underscore- (or hyphen-) separated words (TOKENIZERS_PARALLELISM is not a token).
SECRET_WORDS = {"PASSWORD", "PASSWD", "PASS", "PASSPHRASE", "SECRET", "TOKEN", "APIKEY", "CREDENTIAL", "CREDENTIALS", "AUTH"}
SECRET_PAIRS = {("API", "KEY"), ("PRIVATE", "KEY"), ("ACCESS", "KEY")}
#: A name ending in one of these (JWT_SIGNING_KEY, SESSION_SALT) also holds key material.
SECRET_SUFFIXES = {"KEY", "SALT"}
#: A URL that carries a password: scheme://user:password@host.
URL_WITH_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@", re.IGNORECASE)
#: The same, with the password as a group, to point at it; or with only a user name,
#: which counts when it reads as a token (https://<token>@host), as credential_value tells.
_URL_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://(?:[^/\s:@]*:([^/\s@]+)|([^/\s:@]+))@", re.IGNORECASE)
#: Formats of real credentials that must never appear in generated files.
KNOWN_FORMATS = {
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "Slack webhook": re.compile(r"hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "Stripe key": re.compile(r"\b[rs]k_live_[A-Za-z0-9]{16,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "JSON web token": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    "HTTP authorization header": re.compile(r"(?i)\bauthorization:[^\S\n]*(?:bearer|basic|token)[^\S\n]+[A-Za-z0-9._~+/=-]{8,}"),
}
#: Each format without its leading ``\b``: it matches wherever the format does, and a
#: pattern that starts with a literal is searched some hundred times faster.
_CANDIDATES = {label: re.compile(pattern.pattern.removeprefix("\\b")) for label, pattern in KNOWN_FORMATS.items()}
#: What every name looks_secret accepts spells (a word, a suffix, a word of a pair).
_SECRET_WORD = re.compile("|".join(sorted({w.lower() for w in SECRET_WORDS | SECRET_SUFFIXES | {w for pair in SECRET_PAIRS for w in pair}})))
#: A key given a value on one line (the spaces around ``:`` or ``=`` never run on into the next).
#: Not ``https://…``: the scheme's colon would swallow the URL, and a ``?password=…`` in it.
ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)[^\S\n]*[:=](?!//)[^\S\n]*[\"']?([^\s\"',}&]{8,})")
#: Values that refer to a credential rather than hold one: a path, a variable, a placeholder.
_REFERENCE = ("/", "$", "<", "{", "%")
#: A name of lowercase words, such as a secret's own name: never a credential itself.
_NAME = re.compile(r"[a-z]+(?:[-_.][a-z]+)*")
#: Kinds of characters a password policy asks for; ``-``, ``.`` and ``_`` join the words of names.
_CHARACTER_CLASSES = (re.compile("[a-z]"), re.compile("[A-Z]"), re.compile("[0-9]"), re.compile(r"[^A-Za-z0-9._\s-]"))


def looks_secret(name: str) -> bool:
    """A name that announces a credential value (``*_FILE`` names a file: the safe pattern)."""
    words = re.split("[_-]", name.upper())
    if words[-1] == "FILE":
        return False
    return (
        bool(SECRET_WORDS & set(words))
        or words[-1] in SECRET_SUFFIXES
        or any(pair in SECRET_PAIRS for pair in zip(words, words[1:]))
    )


def secret_in_value(value: str) -> bool:
    return bool(URL_WITH_PASSWORD.search(value))


def entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def credential_value(value: str) -> str | None:
    """Why a value given to a secret-named key reads as a credential ("high-entropy" or
    "password-like"); None for a reference to one (a path, ``${VAR}``, ``<placeholder>``)
    or for a name of lowercase words (``redis-backup-password``, the name of a secret). Eight characters at least; a password-like value mixes three kinds of
    characters, as password policies ask."""
    if len(value) < 8 or value.startswith(_REFERENCE) or _NAME.fullmatch(value):
        return None
    if len(value) >= 12 and entropy(value) > 3.5:
        return "high-entropy"
    if sum(bool(kind.search(value)) for kind in _CHARACTER_CLASSES) >= 3:
        return "password-like"
    return None


@dataclass(frozen=True)
class Leak:
    """One credential found in a text: where (1-based line and column of what gave it
    away), what it is, and the credential itself (to trace it, never to show it)."""

    line: int
    col: int
    kind: str  # "format", "url" (a password), "url-user" (a token as user name) or "assignment"
    label: str  # the format's name, or the key that is assigned the value
    secret: str
    why: str = ""

    @property
    def message(self) -> str:
        """How a finding in a generated file words it."""
        if self.kind == "format":
            return f"{self.label} found in a generated file"
        if self.kind == "url":
            return "a URL with a password found in a generated file"
        if self.kind == "url-user":
            return "a URL with a token as its user name found in a generated file"
        return f"{self.label} is assigned a {self.why} value"

    @property
    def what(self) -> str:
        """What was found, as "got …" words it, without the credential."""
        if self.kind == "format":
            return ("an " if self.label[0] in "AEIOU" or self.label.startswith("HTTP") else "a ") + self.label
        if self.kind == "url":
            return "a URL with a password"
        if self.kind == "url-user":
            return "a URL with a token as its user name"
        return f"a credential assigned to {self.label}"


def line_numbers(text: str) -> Callable[[int], tuple[int, int]]:
    """The 1-based line and column of an offset into ``text``; the lines are found on first use."""
    newlines: list[int] = []

    def line_of(offset: int) -> tuple[int, int]:
        if not newlines:
            newlines.extend(match.start() for match in re.finditer("\n", text))
            newlines.append(len(text))
        index = bisect.bisect_left(newlines, offset)
        return index + 1, offset - (newlines[index - 1] + 1 if index else 0) + 1

    return line_of


def leaks(text: str) -> list[Leak]:
    """Each credential in the text, line by line: on each line each known format that
    occurs there (once), then each URL with a password (or a token as its user name), then each secret-named key given
    a credential value (a high-entropy or a password-like one).

    The patterns run over the whole text at once, not line by line: none of them
    matches across a line break, so they find what a line-by-line search finds."""
    line_of = line_numbers(text)
    found: list[tuple[int, int, int, Leak]] = []  # (line, group, order, leak)
    for rank, (label, pattern) in enumerate(KNOWN_FORMATS.items()):
        if not _CANDIDATES[label].search(text):
            continue  # not even without its leading \b: the format is not there
        first: dict[int, re.Match[str]] = {}
        for match in pattern.finditer(text):
            first.setdefault(line_of(match.start())[0], match)
        for number, match in first.items():
            found.append((number, 0, rank, Leak(*line_of(match.start()), "format", label, match.group())))
    if "://" in text:
        for order, match in enumerate(_URL_PASSWORD.finditer(text)):
            password, user = match.groups()
            if password is None and credential_value(user) is None:
                continue  # a user name (git@, deploy@), not a token
            line, col = line_of(match.start())
            kind = "url" if password is not None else "url-user"
            found.append((line, 1, order, Leak(line, col, kind, "URL", password or user)))
    for order, match in enumerate(_assignments(text)):
        key, value = match.groups()
        why = credential_value(value) if looks_secret(key) else None
        if why is not None:
            line, col = line_of(match.start())
            found.append((line, 2, order, Leak(line, col, "assignment", key, value, why)))
    return [leak for _, _, _, leak in sorted(found, key=lambda item: item[:3])]


def _assignments(text: str) -> Iterator[re.Match[str]]:
    """The ASSIGNMENT matches of the lines that could hold a secret-named key: those that
    spell one of the words looks_secret looks for. No match runs past its line, so
    scanning those lines finds what scanning the whole text finds whose key could count."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a character that lowers into two: offsets would not agree
        yield from ASSIGNMENT.finditer(text)
        return
    starts = dict.fromkeys(lowered.rfind("\n", 0, word.start()) + 1 for word in _SECRET_WORD.finditer(lowered))
    for start in starts:
        end = text.find("\n", start)
        yield from ASSIGNMENT.finditer(text, start, len(text) if end < 0 else end)


def masked(text: str) -> str:
    """``text`` with the userinfo of each URL and each credential :func:`leaks` finds
    replaced by ``***``: what an error message may quote of a value that holds one."""
    text = re.sub(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s]*@", r"\1***@", text)
    text = re.sub(r"^[^\s/@:]+:[^\s/@]+@", "***@", text)  # user:password@host, without a scheme
    for leak in leaks(text):
        text = text.replace(leak.secret, "***")
    return text
