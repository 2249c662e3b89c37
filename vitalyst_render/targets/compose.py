"""The compose file: a laptop stack in dev, a swarm stack in staging and prod."""

from __future__ import annotations

import posixpath

from ..profile.loader import LoadedProfile
from .base import Job, Target

#: Where the compose file sits below the repository root with the default ``--out``.
COMPOSE_DIR = "out/{profile}/compose"


def dockerfile_from_context(profile: str, service: str, context: str) -> str:
    """Compose resolves ``build.dockerfile`` against the build context, which the
    profile gives relative to the compose file; point it back at our Dockerfile."""
    compose_dir = COMPOSE_DIR.format(profile=profile)
    context_dir = posixpath.normpath(posixpath.join(compose_dir, context))
    dockerfile = posixpath.join(posixpath.dirname(compose_dir), "docker", service, "Dockerfile")
    return posixpath.relpath(dockerfile, context_dir)


def _jobs(loaded: LoadedProfile) -> list[Job]:
    dockerfiles = {
        name: dockerfile_from_context(loaded.name, name, service.build.context)
        for name, service in loaded.profile.services.items()
        if service.build is not None
    }
    return [Job("compose/docker-compose.yml.j2", "compose/docker-compose.yml", "dollar-yaml", "yaml", {"dockerfiles": dockerfiles})]


TARGET = Target("compose", "docker-compose.yml (local) or swarm stack file", _jobs)
