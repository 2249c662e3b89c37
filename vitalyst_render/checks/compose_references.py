"""VR204: every name a compose service uses is declared."""

from __future__ import annotations

from typing import Iterable

from ._support import compose_document, compose_services, where
from .base import Problem, Severity, check


@check("VR204", "compose-references", "compose service refers to an undeclared network, secret, config, volume or service", Severity.ERROR)
def compose_references(ctx) -> Iterable[Problem]:
    """Networks, secrets, configs and named volumes that a service uses are declared
    at the top level, and ``depends_on`` names services of the file. Compose reports
    these only at deploy time; ``docker stack deploy`` sometimes not at all.

    Remediation: fix the compose template or the profile's ``secrets`` and ``depends_on``.

    FAIL: ``secrets: [{source: db-password}]`` with no top-level ``db-password``.
    PASS: every ``source``, network and volume name declared at the top level.
    """
    artefact = compose_document(ctx)
    if artefact is None:
        return
    top = artefact.data
    declared = {kind: set((top.get(kind) or {}).keys()) for kind in ("networks", "secrets", "configs", "volumes", "services")}
    for name, service, _ in compose_services(ctx):
        for index, network in enumerate(service.get("networks") or []):
            if network not in declared["networks"]:
                yield Problem(f"service {name} joins undeclared network {network!r}", where(ctx, artefact, "services", name, "networks", index))
        for kind in ("secrets", "configs"):
            for index, mount in enumerate(service.get(kind) or []):
                source = mount.get("source") if isinstance(mount, dict) else mount
                if source not in declared[kind]:
                    yield Problem(f"service {name} uses undeclared {kind[:-1]} {source!r}", where(ctx, artefact, "services", name, kind, index))
        for index, volume in enumerate(service.get("volumes") or []):
            if isinstance(volume, dict):  # long syntax
                if volume.get("type", "volume") != "volume":
                    continue
                source = str(volume.get("source", ""))
            else:
                source = str(volume).split(":", 1)[0]
            if not source.startswith((".", "/")) and source not in declared["volumes"]:
                yield Problem(f"service {name} mounts undeclared volume {source!r}", where(ctx, artefact, "services", name, "volumes", index))
        for dependency in service.get("depends_on") or {}:
            if dependency not in declared["services"]:
                yield Problem(f"service {name} depends on unknown service {dependency!r}", where(ctx, artefact, "services", name, "depends_on"))
