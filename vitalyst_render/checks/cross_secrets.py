"""VR606: secrets are declared, used, referenced by file, and never written out."""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Iterable

from ._support import compose_document, in_profile, looks_secret, pod_containers, pods
from .context import CheckContext
from .base import Problem, Severity, check

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
_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*[:=]\s*[\"']?([^\s\"',}]{12,})")


def entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


@check("VR606", "cross-secrets", "a secret is undeclared, unused, or written as a literal", Severity.ERROR)
def secrets_everywhere(ctx) -> Iterable[Problem]:
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

    FAIL: ``services.backend.env.DB_PASSWORD: hunter2``; a secret declared but never mounted.
    PASS: ``DB_PASSWORD_FILE: /run/secrets/db-password`` with ``db-password`` declared and mounted.
    """
    declared = set(ctx.profile.secrets)
    used: set[str] = set()
    referenced: list[tuple[str, object]] = []
    document = compose_document(ctx)
    if document is not None:
        for name, service in (document.data.get("services") or {}).items():
            for index, mount in enumerate(service.get("secrets") or []):
                source = mount.get("source") if isinstance(mount, dict) else mount
                loc = document.positions.value(("services", name, "secrets", index))
                referenced.append((source, ctx.location(document.path, loc.line, loc.col)))
    for obj, pod, prefix in pods(ctx):
        for index, volume in enumerate(pod.get("volumes") or []):
            if isinstance(volume, dict) and "secret" in volume:
                referenced.append(((volume["secret"] or {}).get("secretName"), obj.at(*prefix, "volumes", index)))
    for artefact in ctx.artefacts.values():
        for number, line in enumerate(artefact.text.split("\n"), start=1):
            for match in _RUN_SECRETS.finditer(line):
                referenced.append((match.group(1), ctx.location(artefact.path, number)))
    for name, location in referenced:
        used.add(name)
        if name not in declared:
            yield Problem(f"secret {name!r} is used but not declared in the profile", location, related=(in_profile(ctx, "secrets"),))
    profile_location = ctx.location("compose/docker-compose.yml") if document is None else ctx.location(document.path)
    for name in sorted(declared - used):
        yield Problem(f"secret {name!r} is declared but nothing uses it", in_profile(ctx, "secrets", name),
                      severity=Severity.WARNING, related=(profile_location,))
    for service_name, service in ctx.profile.services.items():
        for key, value in service.env.items():
            if key.upper().endswith("_FILE") and looks_secret(key[:-5]) and not value.startswith("/run/secrets/"):
                yield Problem(f"services.{service_name}.env.{key} should name a file under /run/secrets/, not hold a value",
                              _env_location(ctx, service_name, key),
                              related=(in_profile(ctx, "services", service_name, "env", key), *_env_related(ctx, service_name, key)))
            elif looks_secret(key) or re.search(r"[a-z][a-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@", value, re.IGNORECASE):
                yield Problem(f"services.{service_name}.env.{key} holds a credential literal", _env_location(ctx, service_name, key),
                              hint=f"declare a secret and set {key}_FILE=/run/secrets/<name>",
                              related=(in_profile(ctx, "services", service_name, "env", key), *_env_related(ctx, service_name, key)))
    for artefact in ctx.artefacts.values():
        for number, line in enumerate(artefact.text.split("\n"), start=1):
            for label, pattern in KNOWN_FORMATS.items():
                if pattern.search(line):
                    yield Problem(f"{label} found in a generated file", ctx.location(artefact.path, number))
            for key, value in _ASSIGNMENT.findall(line):
                if looks_secret(key) and not value.startswith("/") and entropy(value) > 3.5:
                    yield Problem(f"{key} is assigned a high-entropy value", ctx.location(artefact.path, number))


def _env_location(ctx, service: str, key: str):  # noqa: ANN001, ANN202
    document = compose_document(ctx)
    if document is not None:
        loc = document.positions.value(("services", service, "environment", key))
        return ctx.location(document.path, loc.line, loc.col)
    return ctx.location("compose/docker-compose.yml")


def _env_related(ctx, service: str, key: str) -> tuple:  # noqa: ANN001
    return tuple(
        obj.at(*path, "env", e)
        for obj, _, container, path in pod_containers(ctx)
        if container.get("name") == service
        for e, variable in enumerate(container.get("env") or [])
        if variable.get("name") == key
    )
