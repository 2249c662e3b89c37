"""VR207: secrets reach services as files, never as values."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..artefacts import Artefact
from ._support import looks_secret, secret_in_value
from .base import Problem, Severity, check
from .context import COMPOSE, CheckContext
from .examples import ADD_WORKER, Edit, Expect, Fail, Pass

_PASSWORD_FLAG = re.compile(r"(^|\s)(--requirepass|--pass(word)?|-a)(\s|=|$)")
#: NAME="$(cat /run/secrets/x)" before a command, or exported: the value lands in the
#: process's environment (/proc/PID/environ). A plain shell variable followed by && is not exported.
_SECRET_INTO_ENV = re.compile(
    r"(?:\bexport\s+([A-Za-z_]\w*)=\"?\$+\([^)]*/run/secrets/)"
    r"|(?:\b([A-Za-z_]\w*)=\"?\$+\([^)]*/run/secrets/[^)]*\)\"?[ \t]+(?!&&|\|\||;)\S)"
)
_OLD_EXPORTER = """entrypoint: [/bin/sh, "-c", "umask 077 && password=\\"$$(sed -e 's/[\\\\\\\\\\"]/\\\\\\\\&/g' /run/secrets/redis-metrics-password)\\" && printf '{\\"%s\\": \\"%s\\"}' \\"$$REDIS_ADDR\\" \\"$$password\\" > /tmp/redis-password.json && unset password && exec /redis_exporter"]"""

EXAMPLES = (
    Fail(
        "credentials set as values in the profile's env: a password, a URL with a password, NEO4J_AUTH",
        overlay="services:\n"
                "  backend:\n    env: {REDIS_PASSWORD: hunter2, REDIS_URL: 'redis://app:hunter2@redis:6379/0'}\n"
                "  neo4j:\n    env: {NEO4J_AUTH: neo4j/hunter2}\n",
        expect=[
            Expect(COMPOSE, "service backend sets REDIS_PASSWORD as a value"),
            Expect(COMPOSE, "service backend sets REDIS_URL to a URL with a password"),
            Expect(COMPOSE, "service neo4j sets NEO4J_AUTH as a value"),
        ],
    ),
    Fail(
        "the seed's redis-server --requirepass on the command line",
        edits=[Edit(COMPOSE, "command: [redis-server, /usr/local/etc/redis/redis.conf]", "command: [redis-server, --requirepass, hunter2]")],
        expect=[Expect(COMPOSE, "service redis passes a password on its command line")],
    ),
    Fail(
        "a health command that passes the password with redis-cli -a",
        overlay="services:\n  redis:\n    health: {command: [redis-cli, -a, hunter2, ping]}\n",
        expect=[Expect(COMPOSE, "service redis passes a password in its healthcheck")],
    ),
    Fail(
        "a swarm secret read from a file instead of external",
        edits=[Edit(COMPOSE, "  neo4j-auth:\n    external: true\n", "  neo4j-auth:\n    file: ./neo4j.txt\n")],
        expect=[Expect(COMPOSE, "secret neo4j-auth is read from a file in a swarm stack")],
    ),
    Fail(
        "a secret mounted outside /run/secrets",
        edits=[Edit(COMPOSE, "        target: /run/secrets/redis-acl\n", "        target: /usr/local/etc/redis/users.acl\n")],
        expect=[Expect(COMPOSE, "service redis mounts a secret outside /run/secrets")],
    ),
    Fail(
        "a secret read into an exported variable: REDISCLI_AUTH=\"$(cat ...)\" redis-cli, and the exporter's old REDIS_PASSWORD",
        overlay="services:\n  redis:\n    health: {command: [sh, -c, "
                "'REDISCLI_AUTH=\"$(cat /run/secrets/redis-health-password)\" redis-cli --user healthcheck ping | grep -q PONG']}\n",
        edits=[Edit(COMPOSE, _OLD_EXPORTER,
                    'entrypoint: [/bin/sh, "-c", "REDIS_PASSWORD=\\"$$(cat /run/secrets/redis-metrics-password)\\" exec /redis_exporter"]')],
        expect=[
            Expect(COMPOSE, "service redis puts a secret into the environment of its healthcheck (REDISCLI_AUTH)"),
            Expect(COMPOSE, "service redis-exporter puts a secret into the environment of its entrypoint (REDIS_PASSWORD)"),
        ],
    ),
    Pass(
        "look-alikes: TOKENIZERS_PARALLELISM, a URL without a password, redis-cli -p 6379, a password on stdin",
        overlay="services:\n"
                "  backend:\n    env: {TOKENIZERS_PARALLELISM: 'false', CACHE_URL: 'redis://redis:6379/1'}\n"
                "  redis:\n    health: {command: [sh, -c, "
                "'redis-cli -p 6379 --user healthcheck --askpass ping < /run/secrets/redis-health-password']}\n",
    ),
    Pass("a worker added in the profile reads neo4j-auth through NEO4J_AUTH_FILE", overlay=ADD_WORKER),
)


@check("VR207", "compose-secrets", "compose passes a secret as a value instead of a file", Severity.ERROR, examples=EXAMPLES)
def compose_secrets(ctx: CheckContext) -> Iterable[Problem]:
    """Secrets are top-level ``secrets:`` entries (external in a swarm, files on a
    laptop) mounted under ``/run/secrets``. No environment variable named like a
    credential carries a value (``*_FILE`` names the file instead), and no command or
    healthcheck passes a password flag, which would show in ``ps`` and ``docker inspect``,
    or exports a secret file's content into a program's environment
    (``NAME="$(cat /run/secrets/x)" program``), which ``/proc/PID/environ`` shows.

    Remediation: declare the secret in the profile, mount it, and read ``*_FILE``.

    URLs that carry a password (``redis://app:hunter2@redis``) count as values too.
    """
    view = ctx.compose
    if view is None:
        return
    artefact = view.artefact
    swarm = ctx.profile.environment.compose_mode == "swarm"
    for name, secret in (view.data.get("secrets") or {}).items():
        if swarm and not (isinstance(secret, dict) and secret.get("external") is True):
            yield Problem(f"secret {name} is read from a file in a swarm stack", ctx.where(artefact, "secrets", name),
                          hint="create it with docker secret create and mark it external")
    for name, service in view.services.items():
        for key, value in (service.get("environment") or {}).items():
            if looks_secret(key):
                yield Problem(f"service {name} sets {key} as a value", ctx.where(artefact, "services", name, "environment", key),
                              hint=f"mount a secret and set {key}_FILE")
            elif secret_in_value(str(value)):
                yield Problem(f"service {name} sets {key} to a URL with a password", ctx.where(artefact, "services", name, "environment", key),
                              hint="keep the password in a secret file")
        for field in ("command", "entrypoint"):
            words = service.get(field) or []
            text = " ".join(str(word) for word in words) if isinstance(words, list) else str(words)
            if _PASSWORD_FLAG.search(text):
                yield Problem(f"service {name} passes a password on its {field} line", ctx.where(artefact, "services", name, field))
            yield from _secret_into_env(ctx, artefact, name, field, text, (field,))
        test = (service.get("healthcheck") or {}).get("test") or []
        test_text = " ".join(str(word) for word in test[1:]) if isinstance(test, list) else str(test)
        if _PASSWORD_FLAG.search(test_text):
            yield Problem(f"service {name} passes a password in its healthcheck", ctx.where(artefact, "services", name, "healthcheck"))
        yield from _secret_into_env(ctx, artefact, name, "healthcheck", test_text, ("healthcheck", "test"))
        for index, mount in enumerate(service.get("secrets") or []):
            target = mount.get("target", "") if isinstance(mount, dict) else ""
            if target and not target.startswith("/run/secrets/"):
                yield Problem(f"service {name} mounts a secret outside /run/secrets", ctx.where(artefact, "services", name, "secrets", index))


def _secret_into_env(ctx: CheckContext, artefact: Artefact, name: str, field: str, text: str, path: tuple[str, ...]) -> Iterable[Problem]:
    for match in _SECRET_INTO_ENV.finditer(text):
        variable = match.group(1) or match.group(2)
        yield Problem(
            f"service {name} puts a secret into the environment of its {field} ({variable})",
            ctx.where(artefact, "services", name, *path),
            hint="hand the program the file (a *_FILE setting, a password file, or stdin); /proc/PID/environ shows exported values",
        )

