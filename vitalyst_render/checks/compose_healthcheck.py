"""VR203: every compose service has a health check that runs."""

from __future__ import annotations

from typing import Iterable

from ._support import compose_services, where
from .base import Problem, Severity, check


@check("VR203", "compose-healthcheck", "compose service has no working healthcheck", Severity.ERROR)
def compose_healthcheck(ctx) -> Iterable[Problem]:
    """Every service has a ``healthcheck`` that is not disabled and runs a command,
    so ``depends_on: service_healthy``, swarm rolling updates and rollbacks can tell a
    healthy task from a broken one. Redis's check must authenticate.

    Remediation: set the service's ``health`` block; for Redis use a ``command``
    probe that reads the healthcheck user's password from its secret file.

    FAIL: ``healthcheck: {disable: true}``, ``test: [NONE]``, or ``redis-cli ping`` without auth.
    PASS: ``test: [CMD, python, -c, …]`` with interval, timeout, retries and start_period.
    """
    for name, service, artefact in compose_services(ctx):
        health = service.get("healthcheck")
        if not isinstance(health, dict) or health.get("disable") is True:
            yield Problem(f"service {name} has no healthcheck", where(ctx, artefact, "services", name))
            continue
        test = health.get("test")
        if not isinstance(test, list) or len(test) < 2 or test[0] not in ("CMD", "CMD-SHELL"):
            yield Problem(f"service {name} healthcheck does not run a command", where(ctx, artefact, "services", name, "healthcheck"))
            continue
        command = " ".join(test[1:])
        # --user alone names the account; without a password redis-cli is still "default".
        if "redis-cli" in command and not any(flag in command for flag in ("REDISCLI_AUTH", "--pass", "--askpass", "-a ")):
            yield Problem(f"service {name} pings Redis without authenticating", where(ctx, artefact, "services", name, "healthcheck"),
                          hint="use a healthcheck ACL user whose password comes from a secret file")
