"""VR206: services restart, update and roll back the way the platform honours."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from .base import Problem, Severity, check
from .context import COMPOSE, CheckContext
from .examples import ADD_DOCS, Edit, Expect, Fail, Pass

_BACKEND_UPDATES = """      update_config:
        parallelism: 1
        delay: "10s"
        monitor: "130s"
        failure_action: rollback
        order: start-first
      rollback_config:
        parallelism: 1
        delay: "10s"
        monitor: "130s"
        failure_action: pause
        order: start-first
"""
_NEO4J_ORDER = '        monitor: "210s"\n        failure_action: rollback\n        order: {}\n'
_RESTART_POLICY = "      restart_policy:\n        condition: any\n        delay: 5s\n        window: 120s\n"
_REDIS_UPDATE = '      update_config:\n        parallelism: 1\n        delay: "10s"\n        monitor: "60s"\n'
_FRONTEND_RESTART = "    restart: unless-stopped\n    depends_on:\n      backend:\n"

EXAMPLES = (
    Fail(
        "the seed's update_config: {parallelism: 1, delay: 10s}: no failure_action, no order, no rollback_config",
        edits=[Edit(COMPOSE, _BACKEND_UPDATES, "      update_config:\n        parallelism: 1\n        delay: 10s\n")],
        expect=[
            Expect(COMPOSE, "service backend does not roll back a failed update"),
            Expect(COMPOSE, "service backend has no rollback_config"),
            Expect(COMPOSE, "service backend updates stop-first (default); expected start-first"),
        ],
    ),
    Fail(
        "a data store that updates start-first: two tasks on one volume",
        edits=[Edit(COMPOSE, _NEO4J_ORDER.format("stop-first"), _NEO4J_ORDER.format("start-first"))],
        expect=[Expect(COMPOSE, "service neo4j updates start-first; expected stop-first")],
    ),
    Fail(
        "a swarm service without deploy.restart_policy",
        edits=[Edit(COMPOSE, _RESTART_POLICY + _REDIS_UPDATE, _REDIS_UPDATE)],
        expect=[Expect(COMPOSE, "service redis has no deploy.restart_policy")],
    ),
    Fail(
        "a laptop service without restart",
        profile="dev",
        edits=[Edit(COMPOSE, _FRONTEND_RESTART, "    depends_on:\n      backend:\n")],
        expect=[Expect(COMPOSE, "service frontend is not restarted after a crash")],
    ),
    Fail(
        'a laptop service with restart: "no"',
        profile="dev",
        edits=[Edit(COMPOSE, _FRONTEND_RESTART, _FRONTEND_RESTART.replace("unless-stopped", '"no"'))],
        expect=[Expect(COMPOSE, "service frontend is not restarted after a crash")],
    ),
    Pass(
        "a laptop service restarted on-failure with a retry limit (on-failure:5)",
        profile="dev",
        edits=[Edit(COMPOSE, _FRONTEND_RESTART, _FRONTEND_RESTART.replace("unless-stopped", "on-failure:5"))],
    ),
    Pass(
        "an upstream service given a data volume in the profile updates stop-first",
        overlay=ADD_DOCS + "    storage: {size: 1Gi, mount: /data}\n",
    ),
)


@check("VR206", "compose-updates", "compose service lacks safe restart, update or rollback settings", Severity.ERROR,
       examples=EXAMPLES)
def compose_updates(ctx: CheckContext) -> Iterable[Problem]:
    """In a swarm every service has ``deploy.restart_policy``, an ``update_config``
    that rolls back on failure, and a ``rollback_config``. Stateless services start the
    new task first (zero downtime); services with a data volume stop first, since two
    tasks on one volume corrupt it. Locally, ``restart`` is set.

    The seed "rolled back" with ``docker stack rm``: a full outage. A failed update
    must roll back by itself.

    Remediation: the template sets these from ``deployment.update``.
    """
    view = ctx.compose
    if view is None:
        return
    local = ctx.profile.environment.compose_mode == "local"
    for name, service in view.services.items():
        deploy = service.get("deploy") or {}
        here = partial(ctx.where, view.artefact, "services", name)  # for a finding
        if local:
            # on-failure may carry a retry limit: on-failure:5.
            if str(service.get("restart", "")).split(":")[0] not in ("always", "unless-stopped", "on-failure"):
                yield Problem(f"service {name} is not restarted after a crash", here(), hint="restart: unless-stopped")
            continue
        if "restart_policy" not in deploy:
            yield Problem(f"service {name} has no deploy.restart_policy", here())
        update = deploy.get("update_config") or {}
        if update.get("failure_action") != "rollback":
            yield Problem(f"service {name} does not roll back a failed update", here(), hint="update_config.failure_action: rollback")
        planned = ctx.plan.services.get(name)
        expected = planned.update_order if planned is not None else "start-first"
        if update.get("order") != expected:
            yield Problem(f"service {name} updates {update.get('order') or 'stop-first (default)'}; expected {expected}", here())
        if "rollback_config" not in deploy:
            yield Problem(f"service {name} has no rollback_config", here())
