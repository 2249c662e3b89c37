"""VR206: services restart, update and roll back the way the platform honours."""

from __future__ import annotations

from typing import Iterable

from ._support import compose_services, where
from .base import Problem, Severity, check


@check("VR206", "compose-updates", "compose service lacks safe restart, update or rollback settings", Severity.ERROR)
def compose_updates(ctx) -> Iterable[Problem]:
    """In a swarm every service has ``deploy.restart_policy``, an ``update_config``
    that rolls back on failure, and a ``rollback_config``. Stateless services start the
    new task first (zero downtime); services with a data volume stop first, since two
    tasks on one volume corrupt it. Locally, ``restart`` is set.

    The seed "rolled back" with ``docker stack rm``: a full outage. A failed update
    must roll back by itself.

    Remediation: the template sets these from ``deployment.update``.

    FAIL: ``update_config: {parallelism: 1, delay: 10s}`` (no failure_action, no order).
    PASS: ``update_config: {failure_action: rollback, order: start-first, …}`` plus ``rollback_config``.
    """
    local = ctx.profile.environment.compose_mode == "local"
    for name, service, artefact in compose_services(ctx):
        deploy = service.get("deploy") or {}
        here = where(ctx, artefact, "services", name)
        if local:
            if service.get("restart") not in ("always", "unless-stopped", "on-failure"):
                yield Problem(f"service {name} is not restarted after a crash", here, hint="restart: unless-stopped")
            continue
        if "restart_policy" not in deploy:
            yield Problem(f"service {name} has no deploy.restart_policy", here)
        update = deploy.get("update_config") or {}
        if update.get("failure_action") != "rollback":
            yield Problem(f"service {name} does not roll back a failed update", here, hint="update_config.failure_action: rollback")
        planned = ctx.plan.services.get(name)
        expected = planned.update_order if planned is not None else "start-first"
        if update.get("order") != expected:
            yield Problem(f"service {name} updates {update.get('order') or 'stop-first (default)'}; expected {expected}", here)
        if "rollback_config" not in deploy:
            yield Problem(f"service {name} has no rollback_config", here)
