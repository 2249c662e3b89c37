"""Targets, one module per artefact kind, in render order."""

from __future__ import annotations

from . import compose, docker, grafana, kubernetes, prometheus, redis
from .base import Job, Target

# Order matters only in that a later job may embed an earlier file: the Redis
# ConfigMap carries redis/redis.conf verbatim.
TARGETS: tuple[Target, ...] = (
    docker.TARGET,
    compose.TARGET,
    redis.TARGET,
    kubernetes.TARGET,
    prometheus.TARGET,
    grafana.TARGET,
)

__all__ = ["Job", "TARGETS", "Target"]
