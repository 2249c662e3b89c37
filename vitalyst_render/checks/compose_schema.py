"""VR201: the compose file matches our strict schema of the Compose subset we emit."""

from __future__ import annotations

from collections.abc import Iterable

from ..schemas import is_valid, validator
from .base import Problem, Severity, check
from .context import COMPOSE, CheckContext
from .examples import ADD_DOCS, ADD_WORKER, Edit, Expect, Fail, Pass

SCHEMA = "compose.schema.json"
_FRONTEND_HEALTHCHECK = """    healthcheck:
      test: [CMD, node, "-e", "require('http').get('http://127.0.0.1:3000/health', { timeout: 5000 }, (res) => process.exit(res.statusCode < 400 ? 0 : 1)).on('error', () => process.exit(1))"]
      interval: "15s"
      timeout: "5s"
      retries: 3
      start_period: "20s"
"""

_REDIS_SCRATCH = "        source: redis-data\n        target: /data\n      - type: tmpfs\n        target: /tmp\n"

EXAMPLES = (
    Fail(
        "scratch paths under a service's tmpfs key instead of tmpfs volumes",
        edits=[Edit(COMPOSE, _REDIS_SCRATCH, "        source: redis-data\n        target: /data\n    tmpfs: [/tmp]\n")],
        expect=[
            Expect(COMPOSE, "services.redis: Additional properties are not allowed ('tmpfs' was unexpected)"),
        ],
    ),
    Fail(
        "a version other than the 3.8 a swarm stack file carries",
        edits=[Edit(COMPOSE, 'version: "3.8"\n', 'version: "3.9"\n')],
        expect=[Expect(COMPOSE, "version: '3.8' was expected")],
    ),
    Fail(
        "a service rendered without its healthcheck",
        edits=[Edit(COMPOSE, _FRONTEND_HEALTHCHECK, "")],
        expect=[Expect(COMPOSE, "services.frontend: 'healthcheck' is a required property")],
    ),
    Fail(
        "a key outside the subset (privileged: true) and a duration Docker cannot read",
        edits=[
            Edit(COMPOSE, '    user: "999:999"\n', '    user: "999:999"\n    privileged: true\n'),
            Edit(COMPOSE, '      interval: "10s"\n      timeout: "3s"\n', '      interval: "10 seconds"\n      timeout: "3s"\n'),
        ],
        expect=[
            Expect(COMPOSE, "services.redis: Additional properties are not allowed ('privileged' was unexpected)"),
            Expect(COMPOSE, "services.redis.healthcheck.interval: '10 seconds' does not match '^([0-9]+(ms|s|m|h))+$'"),
        ],
    ),
    Pass(
        "a worker sharing the backend's image and an upstream nginx render inside the subset",
        overlay=ADD_WORKER + ADD_DOCS.removeprefix("services:\n"),
    ),
)


@check("VR201", "compose-schema", "compose file breaks the strict compose schema", Severity.ERROR, examples=EXAMPLES)
def compose_schema(ctx: CheckContext) -> Iterable[Problem]:
    """The compose file validates against ``schemas/compose.schema.json``: the exact
    subset of the Compose Specification we emit, with no unknown keys, a top-level
    ``version`` only as ``3.8`` (VR210 says where it belongs), durations and sizes in the forms Docker reads, and every service
    carrying an image, healthcheck, read-only flag, dropped capabilities, networks,
    log rotation and resources. Every violation is reported at its line.

    Remediation: fix the compose template; the upstream specification accepts much
    more, but anything outside this subset is a template change that needs review.
    """
    view = ctx.compose
    if view is None or is_valid(SCHEMA, view.data):
        return
    errors = sorted(validator(SCHEMA).iter_errors(view.data), key=lambda e: list(map(str, e.absolute_path)))
    for error in errors:
        path = tuple(error.absolute_path)
        shown = ".".join(str(p) for p in path) or "(top level)"
        yield Problem(f"{shown}: {error.message}", ctx.where(view.artefact, *path))
