"""VR203: every compose service has a health check that runs."""

from __future__ import annotations

from collections.abc import Iterable

from ..profile.types import duration_seconds
from .base import Problem, Severity, check
from .context import COMPOSE, CheckContext
from .examples import ADD_DOCS, ADD_WORKER, Edit, Expect, Fail, Pass

_REDIS_TEST = '      test: [CMD, sh, "-c", "redis-cli --no-auth-warning --user healthcheck --askpass ping < /run/secrets/redis-health-password | grep -q PONG"]\n'

EXAMPLES = (
    Fail(
        "a healthcheck switched off with disable: true",
        profile="dev",
        edits=[Edit(COMPOSE, _REDIS_TEST, "      disable: true\n")],
        expect=[Expect(COMPOSE, "service redis has no healthcheck")],
    ),
    Fail(
        "a healthcheck whose test is [NONE]",
        profile="dev",
        edits=[Edit(COMPOSE, _REDIS_TEST, "      test: [NONE]\n")],
        expect=[Expect(COMPOSE, "service redis healthcheck does not run a command")],
    ),
    Fail(
        "a redis health command that pings without authenticating (redis-cli ping)",
        profile="dev",
        overlay="services:\n  redis:\n    health: {command: [redis-cli, ping]}\n",
        expect=[Expect(COMPOSE, "service redis pings Redis without authenticating")],
    ),
    Fail(
        "redis-cli --user healthcheck ping: a user name without its password is still unauthenticated",
        profile="dev",
        overlay="services:\n  redis:\n    health: {command: [redis-cli, --user, healthcheck, ping]}\n",
        expect=[Expect(COMPOSE, "service redis pings Redis without authenticating")],
    ),
    Fail(
        "a health interval longer than the start period: a new task stays starting past its grace",
        overlay="services:\n  backend:\n    health: {interval: 60s}\n",
        expect=[Expect(COMPOSE, "service backend runs its first health check after its 60s interval, beyond its 40s start period")],
    ),
    Pass(
        "a worker's command probe and an upstream nginx's wget probe both run",
        profile="dev",
        overlay=ADD_WORKER + ADD_DOCS.removeprefix("services:\n"),
    ),
)


@check("VR203", "compose-healthcheck", "compose service has no working healthcheck", Severity.ERROR, examples=EXAMPLES)
def compose_healthcheck(ctx: CheckContext) -> Iterable[Problem]:
    """Every service has a ``healthcheck`` that is not disabled and runs a command,
    so ``depends_on: service_healthy``, swarm rolling updates and rollbacks can tell a
    healthy task from a broken one. A check that pings Redis with ``redis-cli`` must
    authenticate, or it only proves that the port is open. Docker runs the first
    check one ``interval`` after the start, so an interval longer than
    ``start_period`` leaves every new task starting beyond its grace period.

    Remediation: set the service's ``health`` block; for a redis service use a
    ``command`` probe that reads the healthcheck user's password from its secret file.
    """
    view = ctx.compose
    if view is None:
        return
    artefact = view.artefact
    for name, service in view.services.items():
        health = service.get("healthcheck")
        if not isinstance(health, dict) or health.get("disable") is True:
            yield Problem(f"service {name} has no healthcheck", ctx.where(artefact, "services", name))
            continue
        test = health.get("test")
        if not isinstance(test, list) or len(test) < 2 or test[0] not in ("CMD", "CMD-SHELL"):
            yield Problem(f"service {name} healthcheck does not run a command", ctx.where(artefact, "services", name, "healthcheck"))
            continue
        command = " ".join(str(word) for word in test[1:])
        # --user alone names the account; without a password redis-cli is still "default".
        if "redis-cli" in command and not any(flag in command for flag in ("REDISCLI_AUTH", "--pass", "--askpass", "-a ")):
            yield Problem(f"service {name} pings Redis without authenticating", ctx.where(artefact, "services", name, "healthcheck"),
                          hint="use a healthcheck ACL user whose password comes from a secret file")
        interval, start_period = health.get("interval"), health.get("start_period")
        if duration_seconds(str(interval)) > duration_seconds(str(start_period)):
            # Docker runs the first check one interval after the start: a longer interval
            # keeps every new task "starting" past its start period (the testbed saw it).
            yield Problem(
                f"service {name} runs its first health check after its {interval} interval, beyond its {start_period or '0s'} start period",
                ctx.where(artefact, "services", name, "healthcheck", "interval"),
                hint="an interval no longer than start_period",
            )

