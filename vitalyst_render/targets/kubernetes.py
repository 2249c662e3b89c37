"""Kubernetes manifests, one file per concern, for profiles that enable Kubernetes."""

from __future__ import annotations

from ..profile.loader import LoadedProfile
from ..profile.models import APP_SERVICES
from .base import Job, Target


def _jobs(loaded: LoadedProfile) -> list[Job]:
    if loaded.profile.environment.kubernetes is None:
        return []
    jobs = [
        Job("kubernetes/namespace.yaml.j2", "kubernetes/namespace.yaml", "yaml", "yaml-stream"),
        Job("kubernetes/networkpolicy.yaml.j2", "kubernetes/networkpolicy.yaml", "yaml", "yaml-stream"),
    ]
    for name, service in loaded.profile.services.items():
        template = "kubernetes/app.yaml.j2" if name in APP_SERVICES else "kubernetes/datastore.yaml.j2"
        jobs.append(Job(template, f"kubernetes/{name}.yaml", "yaml", "yaml-stream", {"name": name, "service": service}))
    return jobs


TARGET = Target("kubernetes", "namespace, workloads, services and network policies", _jobs)
