"""Helpers that several checks share (not checks themselves)."""

from __future__ import annotations

import re

from ..artefacts import Artefact
from ..dockerfile import Instruction, shell_words
from ..errors import Location
from .context import CheckContext

#: Words that announce a credential in a variable or key name, matched as whole
#: underscore-separated words (TOKENIZERS_PARALLELISM is not a token).
SECRET_WORDS = {"PASSWORD", "PASSWD", "PASS", "PASSPHRASE", "SECRET", "TOKEN", "APIKEY", "CREDENTIAL", "CREDENTIALS", "AUTH"}
SECRET_PAIRS = {("API", "KEY"), ("PRIVATE", "KEY"), ("ACCESS", "KEY")}
#: A name ending in one of these (JWT_SIGNING_KEY, SESSION_SALT) also holds key material.
SECRET_SUFFIXES = {"KEY", "SALT"}
#: A URL that carries a password: scheme://user:password@host.
URL_WITH_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@", re.IGNORECASE)
#: Packages an install command adds: apt-get/apt install and apk add, with any flags.
INSTALL = re.compile(r"(?:apt-get|apt)\s+(?:-\S+\s+)*install\s+(.+?)(?:&&|;|\||$)|apk\s+(?:-\S+\s+)*add\s+(.+?)(?:&&|;|\||$)")


def looks_secret(name: str) -> bool:
    """A name that announces a credential value (``*_FILE`` names a file: the safe pattern)."""
    words = name.upper().split("_")
    if words[-1] == "FILE":
        return False
    return (
        bool(SECRET_WORDS & set(words))
        or words[-1] in SECRET_SUFFIXES
        or any(pair in SECRET_PAIRS for pair in zip(words, words[1:]))
    )


def secret_in_value(value: str) -> bool:
    return bool(URL_WITH_PASSWORD.search(value))


def installed_packages(arguments: str) -> set[str]:
    packages: set[str] = set()
    for match in INSTALL.finditer(arguments):
        words = (match.group(1) or match.group(2) or "").split()
        packages |= {re.split(r"[=<>]", w)[0] for w in words if not w.startswith("-")}
    return packages


def at(ctx: CheckContext, artefact: Artefact, instruction: Instruction | int) -> Location:
    """The location of a Dockerfile instruction (or line) as findings show it."""
    line = instruction if isinstance(instruction, int) else instruction.line
    return ctx.location(artefact.path, line, 1)


def env_pairs(instruction: Instruction) -> list[tuple[str, str]]:
    """``ENV``/``ARG`` key-value pairs, in both ``K=V`` and legacy ``K V`` forms."""
    text = instruction.arguments.strip()
    if instruction.keyword == "ENV" and "=" not in text.split(" ", 1)[0]:
        key, _, value = text.partition(" ")
        return [(key, value.strip())]
    pairs = []
    for word in shell_words(text):
        key, _, value = word.partition("=")
        pairs.append((key, value))
    return pairs
