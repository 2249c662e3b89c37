"""VR104: no credential in ENV or ARG."""

from __future__ import annotations

from collections.abc import Iterable

from ._support import at, env_pairs, looks_secret, secret_in_value
from .base import Problem, Severity, check
from .context import CheckContext
from .examples import Edit, Expect, Fail, Pass

_ENV_END = "PYTHONUNBUFFERED=1\n"

EXAMPLES = (
    Fail(
        "a password baked into the final stage's ENV",
        edits=[Edit("docker/backend/Dockerfile", _ENV_END, "PYTHONUNBUFFERED=1 \\\n    DB_PASSWORD=hunter2\n")],
        expect=[Expect("docker/backend/Dockerfile", "ENV DB_PASSWORD looks like a credential")],
    ),
    Fail(
        "a registry token as a build argument: the image history keeps it, even with no default",
        edits=[Edit("docker/frontend/Dockerfile", "RUN npm ci --omit=dev", "ARG NPM_TOKEN\nRUN npm ci --omit=dev")],
        expect=[Expect("docker/frontend/Dockerfile", "ARG NPM_TOKEN looks like a credential")],
    ),
    Fail(
        "a connection URL with a password in it, under an innocent name",
        edits=[Edit("docker/backend/Dockerfile", _ENV_END, "PYTHONUNBUFFERED=1 \\\n    DATABASE_URL=postgres://app:hunter2@db/app\n")],
        expect=[Expect("docker/backend/Dockerfile", "ENV DATABASE_URL holds a URL with a password")],
    ),
    Pass(
        "a *_FILE variable naming a mounted secret, a TOKENIZERS_* setting and a URL with only a user",
        edits=[Edit("docker/backend/Dockerfile", _ENV_END,
                    "PYTHONUNBUFFERED=1 \\\n    DB_PASSWORD_FILE=/run/secrets/db-password \\\n"
                    "    TOKENIZERS_PARALLELISM=false \\\n    NEO4J_URI=bolt://app@neo4j:7687\n")],
    ),
)


@check("VR104", "docker-secret-env", "credential-like ENV or ARG in a Dockerfile", Severity.ERROR, examples=EXAMPLES)
def secret_env(ctx: CheckContext) -> Iterable[Problem]:
    """No ``ENV`` or ``ARG`` named like a credential (PASSWORD, SECRET, TOKEN, API_KEY,
    PRIVATE_KEY, CREDENTIAL). ENV values are baked into every layer and ``docker
    inspect``; build arguments stay in the image history even without a default.
    ``*_FILE`` variables, which name a mounted secret file, are the safe pattern.
    A URL value with a password in it (``postgres://app:hunter2@db``) counts too.

    Remediation: mount a secret at run time and read it through a ``*_FILE`` variable;
    for build-time credentials use ``RUN --mount=type=secret``.
    """
    for artefact, parsed in ctx.dockerfiles:
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
