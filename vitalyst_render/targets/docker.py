"""Dockerfiles and .dockerignore files for the services we build (backend, frontend)."""

from __future__ import annotations

from ..profile.loader import LoadedProfile
from ..profile.models import APP_SERVICES
from .base import Job, Target


def _jobs(loaded: LoadedProfile, out: str) -> list[Job]:
    jobs = []
    for name in APP_SERVICES:
        context = {"name": name, "service": loaded.profile.services[name]}
        jobs.append(Job(f"docker/{name}.Dockerfile.j2", f"docker/{name}/Dockerfile", "dockerfile", "dockerfile", context))
        jobs.append(Job(f"docker/{name}.dockerignore.j2", f"docker/{name}/.dockerignore", "text", "none", context))
        # BuildKit reads <Dockerfile>.dockerignore beside the Dockerfile, whatever the
        # build context is; .dockerignore is for builds whose context is this folder.
        jobs.append(Job(f"docker/{name}.dockerignore.j2", f"docker/{name}/Dockerfile.dockerignore", "text", "none", context))
    return jobs


TARGET = Target("docker", "multi-stage Dockerfiles and their ignore files per built service", _jobs)
