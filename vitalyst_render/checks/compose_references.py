"""VR204: every name a compose service uses is declared."""

from __future__ import annotations

from collections.abc import Iterable

from .base import Problem, Severity, check
from .context import COMPOSE, CheckContext
from .examples import ADD_DOCS, ADD_WORKER, Edit, Expect, Fail, Pass

_REDIS_VOLUME = "      - type: volume\n        source: redis-data\n        target: /data\n"

EXAMPLES = (
    Fail(
        "an undeclared network, secret, named volume and depends_on target",
        profile="dev",
        edits=[
            Edit(COMPOSE, "networks: [backend-to-neo4j, backend-to-redis, frontend-to-backend, backend-edge]",
                 "networks: [backend-to-neo4j, backend-to-redis, frontend-to-backend, backend-edge, public]"),
            Edit(COMPOSE, "      - source: redis-app-password\n        target: /run/secrets/redis-app-password\n",
                 "      - source: redis-app-password\n        target: /run/secrets/redis-app-password\n"
                 "      - source: db-password\n        target: /run/secrets/db-password\n"),
            Edit(COMPOSE, _REDIS_VOLUME, "      - type: volume\n        source: cache\n        target: /data\n"),
            Edit(COMPOSE, "    depends_on:\n      backend:\n", "    depends_on:\n      api:\n"),
        ],
        expect=[
            Expect(COMPOSE, "service backend joins undeclared network 'public'"),
            Expect(COMPOSE, "service backend uses undeclared secret 'db-password'"),
            Expect(COMPOSE, "service frontend depends on unknown service 'api'"),
            Expect(COMPOSE, "service redis mounts undeclared volume 'cache'"),
        ],
    ),
    Fail(
        "a short-syntax volume mount whose source is not declared",
        profile="dev",
        edits=[Edit(COMPOSE, _REDIS_VOLUME, '      - "cache:/data"\n')],
        expect=[Expect(COMPOSE, "service redis mounts undeclared volume 'cache'")],
    ),
    Pass(
        "a short-syntax volume mount of a declared volume",
        profile="dev",
        edits=[Edit(COMPOSE, _REDIS_VOLUME, '      - "redis-data:/data"\n')],
    ),
    Pass(
        "bind mounts (./path, ~/path, or type: bind) name no volume to declare",
        profile="dev",
        edits=[Edit(COMPOSE, _REDIS_VOLUME, '      - "./redis-data:/data"\n      - "~/cache:/cache"\n      - {type: bind, source: cache, target: /cache}\n')],
    ),
    Pass(
        "an anonymous volume (no source) has nothing to declare",
        profile="dev",
        edits=[Edit(COMPOSE, _REDIS_VOLUME, "      - {type: volume, target: /data}\n")],
    ),
    Pass(
        "a worker and an upstream nginx added in the profile: their secrets, networks and depends_on resolve",
        profile="dev",
        overlay=ADD_WORKER + ADD_DOCS.removeprefix("services:\n"),
    ),
)


@check("VR204", "compose-references", "compose service refers to an undeclared network, secret, config, volume or service",
       Severity.ERROR, examples=EXAMPLES)
def compose_references(ctx: CheckContext) -> Iterable[Problem]:
    """Networks, secrets, configs and named volumes that a service uses are declared
    at the top level, and ``depends_on`` names services of the file. Compose reports
    these only at deploy time; ``docker stack deploy`` sometimes not at all.

    Remediation: fix the compose template or the profile's ``secrets`` and ``depends_on``.
    """
    view = ctx.compose
    if view is None:
        return
    artefact = view.artefact
    declared: dict[str, set[str]] = {}
    for kind in ("networks", "secrets", "configs", "volumes", "services"):
        section = view.data.get(kind)
        declared[kind] = set(section) if isinstance(section, dict) else set()
    for name, service in view.services.items():
        for index, network in enumerate(service.get("networks") or []):
            if network not in declared["networks"]:
                yield Problem(f"service {name} joins undeclared network {network!r}", ctx.where(artefact, "services", name, "networks", index))
        for kind in ("secrets", "configs"):
            for index, mount in enumerate(service.get(kind) or []):
                source = mount.get("source") if isinstance(mount, dict) else mount
                if source not in declared[kind]:
                    yield Problem(f"service {name} uses undeclared {kind[:-1]} {source!r}", ctx.where(artefact, "services", name, kind, index))
        for index, volume in enumerate(service.get("volumes") or []):
            if isinstance(volume, dict):  # long syntax
                if volume.get("type", "volume") != "volume":
                    continue
                source = str(volume.get("source", ""))
            else:
                source = str(volume).split(":", 1)[0]
            # An anonymous volume has no source; a path (./, /, ~) is a bind mount.
            if source and not source.startswith((".", "/", "~")) and source not in declared["volumes"]:
                yield Problem(f"service {name} mounts undeclared volume {source!r}", ctx.where(artefact, "services", name, "volumes", index))
        for dependency in service.get("depends_on") or {}:
            if dependency not in declared["services"]:
                yield Problem(f"service {name} depends on unknown service {dependency!r}", ctx.where(artefact, "services", name, "depends_on"))
