"""Targets, one module per artefact kind, in render order."""

from __future__ import annotations

from . import compose, docker, grafana, kubernetes, prometheus, redis
from .base import Job, Target

# Order matters only in that a later job may use an earlier file: the compose stack
# names its Redis config after redis.conf's digest, and the ConfigMap carries it.
TARGETS: tuple[Target, ...] = (
    docker.TARGET,
    redis.TARGET,
    compose.TARGET,
    kubernetes.TARGET,
    prometheus.TARGET,
    grafana.TARGET,
)

__all__ = ["Job", "TARGETS", "Target"]
