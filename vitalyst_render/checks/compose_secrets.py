"""VR207: secrets reach services as files, never as values."""

from __future__ import annotations

import re
from typing import Iterable

from ._support import compose_document, compose_services, looks_secret, secret_in_value, where
from .base import Problem, Severity, check

_PASSWORD_FLAG = re.compile(r"(^|\s)(--requirepass|--pass(word)?|-a)(\s|=|$)")


@check("VR207", "compose-secrets", "compose passes a secret as a value instead of a file", Severity.ERROR)
def compose_secrets(ctx) -> Iterable[Problem]:
    """Secrets are top-level ``secrets:`` entries (external in a swarm, files on a
    laptop) mounted under ``/run/secrets``. No environment variable named like a
    credential carries a value (``*_FILE`` names the file instead), and no command or
    healthcheck passes a password flag, which would show in ``ps`` and ``docker inspect``.

    Remediation: declare the secret in the profile, mount it, and read ``*_FILE``.

    URLs that carry a password (``redis://app:hunter2@redis``) count as values too.

    FAIL: ``environment: {REDIS_PASSWORD: hunter2}``, ``NEO4J_AUTH: neo4j/hunter2`` or ``command: redis-server --requirepass …``.
    PASS: ``environment: {REDIS_PASSWORD_FILE: /run/secrets/redis-app-password}``.
    """
    artefact = compose_document(ctx)
    if artefact is None:
        return
    swarm = ctx.profile.environment.compose_mode == "swarm"
    for name, secret in (artefact.data.get("secrets") or {}).items():
        if swarm and not (isinstance(secret, dict) and secret.get("external") is True):
            yield Problem(f"secret {name} is read from a file in a swarm stack", where(ctx, artefact, "secrets", name),
                          hint="create it with docker secret create and mark it external")
    for name, service, _ in compose_services(ctx):
        for key, value in (service.get("environment") or {}).items():
            if looks_secret(key):
                yield Problem(f"service {name} sets {key} as a value", where(ctx, artefact, "services", name, "environment", key),
                              hint=f"mount a secret and set {key}_FILE")
            elif secret_in_value(str(value)):
                yield Problem(f"service {name} sets {key} to a URL with a password", where(ctx, artefact, "services", name, "environment", key),
                              hint="keep the password in a secret file")
        for field in ("command", "entrypoint"):
            words = service.get(field) or []
            text = " ".join(words) if isinstance(words, list) else str(words)
            if _PASSWORD_FLAG.search(text):
                yield Problem(f"service {name} passes a password on its {field} line", where(ctx, artefact, "services", name, field))
        test = (service.get("healthcheck") or {}).get("test") or []
        if _PASSWORD_FLAG.search(" ".join(test[1:]) if isinstance(test, list) else str(test)):
            yield Problem(f"service {name} passes a password in its healthcheck", where(ctx, artefact, "services", name, "healthcheck"))
        for index, mount in enumerate(service.get("secrets") or []):
            target = mount.get("target", "") if isinstance(mount, dict) else ""
            if target and not target.startswith("/run/secrets/"):
                yield Problem(f"service {name} mounts a secret outside /run/secrets", where(ctx, artefact, "services", name, "secrets", index))
