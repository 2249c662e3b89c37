"""VR209: a swarm stack file uses no service key that ``docker stack deploy`` silently drops."""

from __future__ import annotations

from collections.abc import Iterable

from .base import Problem, Severity, check
from .context import COMPOSE, CheckContext
from .examples import Edit, Expect, Fail, Pass

#: Service keys the stack converter neither turns into the swarm service nor warns
#: about (docker/cli cli/compose/convert; the warned ones are in its loader's
#: unsupported-properties list). Each maps to what to write instead.
DROPPED_SILENTLY = {
    "tmpfs": "list each path as a volume of type tmpfs",
    "depends_on": "swarm starts services in any order: callers retry until their dependencies are healthy",
}

_REDIS_SCRATCH = "        source: redis-data\n        target: /data\n      - type: tmpfs\n        target: /tmp\n"

EXAMPLES = (
    Fail(
        "redis's scratch path under the service's tmpfs key: the stack runs read-only with no writable /tmp",
        edits=[Edit(COMPOSE, _REDIS_SCRATCH, "        source: redis-data\n        target: /data\n    tmpfs: [/tmp]\n")],
        expect=[Expect(COMPOSE, "service redis sets tmpfs, which docker stack deploy drops without a warning")],
    ),
    Fail(
        "a depends_on in a swarm stack: the order it promises does not exist",
        edits=[Edit(COMPOSE, "    networks: [frontend-to-backend, frontend-edge]\n",
                     "    networks: [frontend-to-backend, frontend-edge]\n    depends_on: [backend]\n")],
        expect=[Expect(COMPOSE, "service frontend sets depends_on, which docker stack deploy drops without a warning")],
    ),
    Pass("the stack as rendered: scratch paths are tmpfs volumes, no depends_on"),
    Pass(
        "a local compose file may use the tmpfs key: docker compose honours it",
        profile="dev",
        edits=[Edit(COMPOSE, "    volumes:\n      - type: tmpfs\n        target: /tmp\n", "    tmpfs: [/tmp]\n")],
    ),
)


@check("VR209", "compose-swarm-dropped", "swarm stack file uses a key that stack deploy silently drops", Severity.ERROR, examples=EXAMPLES)
def compose_swarm_dropped(ctx: CheckContext) -> Iterable[Problem]:
    """In swarm mode, no service sets a key that ``docker stack deploy`` neither
    converts nor warns about. The stack deploys, and the setting is simply absent:
    a service's ``tmpfs`` list is dropped, so a ``read_only`` service runs with no
    writable scratch path, which linters cannot see and the live testbed found.

    Remediation: write the setting the way stack deploy converts it; for scratch
    paths, ``volumes`` entries of ``type: tmpfs``.
    """
    view = ctx.compose
    if view is None or ctx.plan.local:
        return
    for name, service in view.services.items():
        for key, instead in DROPPED_SILENTLY.items():
            if key in service:
                yield Problem(
                    f"service {name} sets {key}, which docker stack deploy drops without a warning",
                    ctx.where(view.artefact, "services", name, key),
                    hint=instead,
                )
