"""redis.conf, shared by compose (as a config) and Kubernetes (as a ConfigMap)."""

from __future__ import annotations

from ..profile.loader import LoadedProfile
from .base import Job, Target


def _jobs(loaded: LoadedProfile, out: str) -> list[Job]:
    return [Job("redis/redis.conf.j2", "redis/redis.conf", "conf", "none", {"service": loaded.profile.services["redis"]})]


TARGET = Target("redis", "redis.conf with ACL-file auth and memory limits", _jobs)
