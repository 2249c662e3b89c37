"""VR606: secrets are declared, used, referenced by file, and never written out."""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any

from ..errors import Location
from ..kube import secret_references

from ._support import SECRET_PAIRS, SECRET_SUFFIXES, SECRET_WORDS, looks_secret
from .base import Problem, Severity, check
from .context import COMPOSE, CheckContext
from .examples import ADD_CACHE, ADD_WORKER, Edit, Expect, Fail, Pass

# Not /var/run/secrets/kubernetes.io/…: that is the service-account mount, not ours.
_RUN_SECRETS = re.compile(r"(?<![A-Za-z0-9_./-])/run/secrets/([a-z0-9]([-a-z0-9]*[a-z0-9])?)")
#: Formats of real credentials that must never appear in generated files.
KNOWN_FORMATS = {
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "Slack webhook": re.compile(r"hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "Stripe key": re.compile(r"\b[rs]k_live_[A-Za-z0-9]{16,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
}
#: Each format without its leading ``\b``: it matches wherever the format does, and a
#: pattern that starts with a literal is searched some hundred times faster.
_CANDIDATES = {label: re.compile(pattern.pattern.removeprefix("\\b")) for label, pattern in KNOWN_FORMATS.items()}
#: What every name looks_secret accepts spells (a word, a suffix, a word of a pair).
_SECRET_WORD = re.compile("|".join(sorted({w.lower() for w in SECRET_WORDS | SECRET_SUFFIXES | {w for pair in SECRET_PAIRS for w in pair}})))
#: A key given a value on one line (the spaces around ``:`` or ``=`` never run on into the next).
_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)[^\S\n]*[:=][^\S\n]*[\"']?([^\s\"',}]{12,})")


def entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _backend_env(**env: str) -> str:
    """An overlay that sets environment variables of the backend."""
    return "services:\n  backend:\n    env:\n" + "".join(f"      {key}: {value}\n" for key, value in env.items())


_DEV_MOUNT = "      - source: redis-app-password\n        target: /run/secrets/redis-app-password\n"

EXAMPLES = (
    Fail("a password literal in a service's env in the profile", overlay=_backend_env(DB_PASSWORD="hunter2"),
         expect=[Expect(COMPOSE, "services.backend.env.DB_PASSWORD holds a credential literal")]),
    Fail("a URL with a password in a service's env", overlay=_backend_env(REDIS_URL="redis://app:s3cret@redis:6379/0"),
         expect=[Expect(COMPOSE, "services.backend.env.REDIS_URL holds a credential literal")]),
    Fail("a *_FILE variable that names a file outside /run/secrets/",
         overlay=_backend_env(DB_PASSWORD_FILE="/etc/vitalyst/db-password"),
         expect=[Expect(COMPOSE, "services.backend.env.DB_PASSWORD_FILE should name a file under /run/secrets/, not hold a value")]),
    Fail("a secret declared in the profile that nothing mounts", profile="dev",
         overlay="secrets:\n  spare:\n    description: nobody mounts it\n",
         expect=[Expect("example.yaml", "secret 'spare' is declared but nothing uses it")]),
    Fail("compose mounts a secret the profile does not declare (the mount and its /run/secrets path)", profile="dev",
         edits=[Edit(COMPOSE, _DEV_MOUNT, _DEV_MOUNT + "      - source: stripe-key\n        target: /run/secrets/stripe-key\n")],
         expect=[Expect(COMPOSE, "secret 'stripe-key' is used but not declared in the profile")] * 2),
    Fail("an AWS access key and a high-entropy secret value written into a generated file", profile="dev",
         edits=[Edit(COMPOSE, "      LOG_LEVEL: debug\n",
                     "      LOG_LEVEL: debug\n      NOTE: AKIAABCDEFGHIJKLMNOP\n      SESSION_SECRET: 9fK2xQ7mZp4vL8wR3tY6\n")],
         expect=[Expect(COMPOSE, "AWS access key found in a generated file"),
                 Expect(COMPOSE, "SESSION_SECRET is assigned a high-entropy value")]),
    Fail("a second Redis whose exporter mounts a secret the profile does not declare", overlay=ADD_CACHE,
         edits=[Edit(COMPOSE, "source: cache-metrics-password", "source: cache-exporter-password")],
         expect=[Expect(COMPOSE, "secret 'cache-exporter-password' is used but not declared in the profile")]),
    Pass("DB_PASSWORD_FILE naming a declared, mounted secret; TOKENIZERS_PARALLELISM is no token",
         overlay="secrets:\n  db-password:\n    description: the database password\n"
                 "services:\n  backend:\n    secrets: [neo4j-auth, redis-app-password, db-password]\n"
                 "    env:\n      DB_PASSWORD_FILE: /run/secrets/db-password\n      TOKENIZERS_PARALLELISM: 'false'\n"),
    Pass("a second Redis added in the profile with its own ACL, health and exporter secrets", overlay=ADD_CACHE),
    Pass("a worker added in the profile that mounts the backend's neo4j secret", overlay=ADD_WORKER),
)


@check("VR606", "cross-secrets", "a secret is undeclared, unused, or written as a literal", Severity.ERROR,
       examples=EXAMPLES)
def secrets_everywhere(ctx: CheckContext) -> Iterable[Problem]:
    """Across every artefact:

    * every secret referenced (compose ``secrets``, Kubernetes secret volumes and
      refs, ``/run/secrets/<name>`` paths in env values and configs) is declared in
      the profile, and every declared secret is used somewhere;
    * no ``env`` entry in the profile carries a credential literal: a key naming a
      PASSWORD, SECRET, TOKEN, API_KEY, PRIVATE_KEY or AUTH without ``_FILE``, or a
      URL with a password;
    * no generated file contains a credential in a known format (cloud and chat
      tokens, private keys) or a high-entropy value assigned to a secret-named key.

    Remediation: declare the secret, mount it, and pass ``*_FILE``; remove literals.
    """
    declared = set(ctx.profile.secrets)
    used: set[str] = set()
    # The name as written (None where a volume names none), and how to find it for a finding.
    referenced: list[tuple[Any, Callable[[], Location]]] = []
    view = ctx.compose
    if view is not None:
        for name, service in view.services.items():
            for index, mount in enumerate(service.get("secrets") or []):
                source = mount.get("source") if isinstance(mount, dict) else mount
                referenced.append((source, partial(ctx.where, view.artefact, "services", name, "secrets", index)))
    for pod in ctx.pods:
        # Secret volumes, projected sources and env references alike.
        for name, path in secret_references(pod.spec, pod.path):
            referenced.append((name, partial(pod.obj.at, *path)))
    for artefact in ctx.artefacts.values():
        line_of = _line_numbers(artefact.text)
        for match in _RUN_SECRETS.finditer(artefact.text):
            referenced.append((match.group(1), partial(ctx.location, artefact.path, line_of(match.start()))))
    for name, locate in referenced:
        used.add(name)
        if name not in declared:
            yield Problem(f"secret {name!r} is used but not declared in the profile", locate(), related=(ctx.in_profile("secrets"),))
    for name in sorted(declared - used):
        yield Problem(f"secret {name!r} is declared but nothing uses it", ctx.in_profile("secrets", name),
                      severity=Severity.WARNING, related=(ctx.location(COMPOSE),))
    for service_name, spec in ctx.profile.services.items():
        for key, value in spec.env.items():
            if key.upper().endswith("_FILE") and looks_secret(key[:-5]) and not value.startswith("/run/secrets/"):
                yield Problem(f"services.{service_name}.env.{key} should name a file under /run/secrets/, not hold a value",
                              _env_location(ctx, service_name, key),
                              related=(ctx.in_profile("services", service_name, "env", key), *_env_related(ctx, service_name, key)))
            elif looks_secret(key) or re.search(r"[a-z][a-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@", value, re.IGNORECASE):
                yield Problem(f"services.{service_name}.env.{key} holds a credential literal", _env_location(ctx, service_name, key),
                              hint=f"declare a secret and set {key}_FILE=/run/secrets/<name>",
                              related=(ctx.in_profile("services", service_name, "env", key), *_env_related(ctx, service_name, key)))
    for artefact in ctx.artefacts.values():
        for number, message in _leaks(artefact.text):
            yield Problem(message, ctx.location(artefact.path, number))


def _line_numbers(text: str) -> Callable[[int], int]:
    """The 1-based line number of an offset into ``text``; the lines are found on first use."""
    newlines: list[int] = []

    def line_of(offset: int) -> int:
        if not newlines:
            newlines.extend(match.start() for match in re.finditer("\n", text))
            newlines.append(len(text))
        return bisect.bisect_left(newlines, offset) + 1

    return line_of


def _leaks(text: str) -> list[tuple[int, str]]:
    """(line, message) of each credential in the text, line by line: on each line each
    known format that occurs there, then each secret-named key given a high-entropy value.

    The patterns run over the whole text at once, not line by line: none of them
    matches across a line break, so they find what a line-by-line search finds."""
    line_of = _line_numbers(text)
    found: list[tuple[int, int, int, str]] = []  # (line, formats before assignments, order, message)
    for rank, (label, pattern) in enumerate(KNOWN_FORMATS.items()):
        if not _CANDIDATES[label].search(text):
            continue  # not even without its leading \b: the format is not there
        for number in dict.fromkeys(line_of(match.start()) for match in pattern.finditer(text)):
            found.append((number, 0, rank, f"{label} found in a generated file"))
    for order, match in enumerate(_assignments(text)):
        key, value = match.groups()
        if looks_secret(key) and not value.startswith("/") and entropy(value) > 3.5:
            found.append((line_of(match.start()), 1, order, f"{key} is assigned a high-entropy value"))
    return [(number, message) for number, _, _, message in sorted(found)]


def _assignments(text: str) -> Iterator[re.Match[str]]:
    """The _ASSIGNMENT matches of the lines that could hold a secret-named key: those that
    spell one of the words looks_secret looks for. No match runs past its line, so
    scanning those lines finds what scanning the whole text finds whose key could count."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a character that lowers into two: offsets would not agree
        yield from _ASSIGNMENT.finditer(text)
        return
    starts = dict.fromkeys(lowered.rfind("\n", 0, word.start()) + 1 for word in _SECRET_WORD.finditer(lowered))
    for start in starts:
        end = text.find("\n", start)
        yield from _ASSIGNMENT.finditer(text, start, len(text) if end < 0 else end)


def _env_location(ctx: CheckContext, service: str, key: str) -> Location:
    if ctx.compose is not None:
        return ctx.where(ctx.compose.artefact, "services", service, "environment", key)
    return ctx.location(COMPOSE)


def _env_related(ctx: CheckContext, service: str, key: str) -> tuple[Location, ...]:
    return tuple(
        found.obj.at(*found.path, "env", e)
        for found in ctx.containers
        if found.container.get("name") == service
        for e, variable in enumerate(found.container.get("env") or [])
        if variable.get("name") == key
    )
