"""redis.conf, shared by compose (as a config) and Kubernetes (as a ConfigMap)."""

from __future__ import annotations

from ..profile.loader import LoadedProfile
from .base import Job, Target


def _jobs(loaded: LoadedProfile, out: str) -> list[Job]:
    context = {"service": loaded.profile.services["redis"]}
    return [
        Job("redis/redis.conf.j2", "redis/redis.conf", "conf", "none", context),
        Job("redis/users.acl.template.j2", "redis/users.acl.template", "text", "none", context),
    ]


TARGET = Target("redis", "redis.conf with ACL-file auth and memory limits, and the ACL rules", _jobs)
