"""The compose file: a laptop stack in dev, a swarm stack in staging and prod."""

from __future__ import annotations

import posixpath

from ..plan import StackPlan
from .base import Job, Target

# Relative paths are resolved under a fixed stand-in root, so the result never depends
# on the working directory, even when a path climbs above the output folder.
_ANCHOR = "/" + "/".join(["_"] * 32)


def dockerfile_from_context(out: str, profile: str, service: str, context: str) -> str:
    """Compose resolves ``build.dockerfile`` against the build context, which the
    profile gives relative to the compose file; point it back at our Dockerfile."""
    compose_dir = posixpath.join(_ANCHOR, out, profile, "compose")
    context_dir = posixpath.normpath(posixpath.join(compose_dir, context))
    dockerfile = posixpath.join(_ANCHOR, out, profile, "docker", service, "Dockerfile")
    return posixpath.relpath(posixpath.normpath(dockerfile), context_dir)


def relative_to_compose(path: str) -> str:
    """A path of the profile's output folder as the compose file (in compose/) names it."""
    return posixpath.join("..", path)


def _jobs(plan: StackPlan, out: str) -> list[Job]:
    dockerfiles = {
        service.name: dockerfile_from_context(out, plan.name, service.name, service.build.context)
        for service in plan.builds
        if service.build is not None
    }
    context = {"dockerfiles": dockerfiles, "relative_to_compose": relative_to_compose}
    return [Job("compose/docker-compose.yml.j2", "compose/docker-compose.yml", "dollar-yaml", "yaml", context)]


TARGET = Target("compose", "docker-compose.yml (local) or swarm stack file", _jobs)
