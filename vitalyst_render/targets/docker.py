"""Dockerfiles and .dockerignore files, one set per service that builds its own image."""

from __future__ import annotations

from ..plan import StackPlan
from .base import Job, Target


def _jobs(plan: StackPlan, out: str) -> list[Job]:
    jobs = []
    for service in plan.builds:
        assert service.build is not None
        context = {"service": service}
        folder = f"docker/{service.name}"
        jobs.append(Job(service.build.template, f"{folder}/Dockerfile", "dockerfile", "dockerfile", context))
        jobs.append(Job(service.build.ignore_template, f"{folder}/.dockerignore", "text", "none", context))
        # BuildKit reads <Dockerfile>.dockerignore beside the Dockerfile, whatever the
        # build context is; .dockerignore is for builds whose context is this folder.
        jobs.append(Job(service.build.ignore_template, f"{folder}/Dockerfile.dockerignore", "text", "none", context))
    return jobs


TARGET = Target("docker", "multi-stage Dockerfiles and their ignore files per built service", _jobs)
