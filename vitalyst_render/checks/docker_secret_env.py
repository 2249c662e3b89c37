"""VR104: no credential in ENV or ARG."""

from __future__ import annotations

from typing import Iterable

from ._support import at, dockerfiles, env_pairs, looks_secret, secret_in_value
from .base import Problem, Severity, check


@check("VR104", "docker-secret-env", "credential-like ENV or ARG in a Dockerfile", Severity.ERROR)
def secret_env(ctx) -> Iterable[Problem]:
    """No ``ENV`` or ``ARG`` named like a credential (PASSWORD, SECRET, TOKEN, API_KEY,
    PRIVATE_KEY, CREDENTIAL). ENV values are baked into every layer and ``docker
    inspect``; build arguments stay in the image history even without a default.
    ``*_FILE`` variables, which name a mounted secret file, are the safe pattern.

    Remediation: mount a secret at run time and read it through a ``*_FILE`` variable;
    for build-time credentials use ``RUN --mount=type=secret``.

    A URL value with a password in it (``postgres://app:hunter2@db``) counts too.

    FAIL: ``ENV DB_PASSWORD=hunter2``, ``ARG NPM_TOKEN``, ``ENV DATABASE_URL=postgres://u:p@db/x``.
    PASS: ``ENV DB_PASSWORD_FILE=/run/secrets/db-password``.
    """
    for artefact, parsed in dockerfiles(ctx):
        for instruction in parsed.instructions:
            if instruction.keyword not in ("ENV", "ARG"):
                continue
            for key, value in env_pairs(instruction):
                if looks_secret(key):
                    yield Problem(f"{instruction.keyword} {key} looks like a credential", at(ctx, artefact, instruction),
                                  hint=f"mount it as a secret and read {key}_FILE")
                elif secret_in_value(value):
                    yield Problem(f"{instruction.keyword} {key} holds a URL with a password", at(ctx, artefact, instruction),
                                  hint="keep the password in a mounted secret file")
