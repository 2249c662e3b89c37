"""Helpers that several checks share (not checks themselves)."""

from __future__ import annotations

import re

from ..artefacts import Artefact
# The credential detector is shared with the profile model: see vitalyst_render.credentials.
from ..credentials import (
    SECRET_PAIRS as SECRET_PAIRS,
    SECRET_SUFFIXES as SECRET_SUFFIXES,
    SECRET_WORDS as SECRET_WORDS,
    URL_WITH_PASSWORD as URL_WITH_PASSWORD,
    looks_secret as looks_secret,
    secret_in_value as secret_in_value,
)
from ..dockerfile import Instruction, shell_words
from ..errors import Location
from .context import CheckContext

#: Packages an install command adds: apt-get/apt install and apk add, with any flags.
INSTALL = re.compile(r"(?:apt-get|apt)\s+(?:-\S+\s+)*install\s+(.+?)(?:&&|;|\||$)|apk\s+(?:-\S+\s+)*add\s+(.+?)(?:&&|;|\||$)")


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
