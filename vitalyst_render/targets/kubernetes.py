"""Kubernetes manifests, one file per concern, for profiles that enable Kubernetes."""

from __future__ import annotations

from ..monitoring import rules_and_tests
from ..profile.loader import LoadedProfile
from .base import Job, Target


def _jobs(loaded: LoadedProfile, out: str) -> list[Job]:
    if loaded.profile.environment.kubernetes is None:
        return []
    jobs = [
        Job("kubernetes/namespace.yaml.j2", "kubernetes/namespace.yaml", "yaml", "yaml-stream"),
        Job("kubernetes/networkpolicy.yaml.j2", "kubernetes/networkpolicy.yaml", "yaml", "yaml-stream"),
        Job("kubernetes/backups.yaml.j2", "kubernetes/backups.yaml", "yaml", "yaml-stream"),
        Job("kubernetes/ingress.yaml.j2", "kubernetes/ingress.yaml", "yaml", "yaml-stream"),
        Job("kubernetes/prometheusrule.yaml.j2", "kubernetes/prometheusrule.yaml", "yaml", "yaml-stream",
            {"rule_groups": rules_and_tests(loaded.profile)[0]}),
    ]
    for name, service in loaded.profile.services.items():
        jobs.append(Job("kubernetes/workload.yaml.j2", f"kubernetes/{name}.yaml", "yaml", "yaml-stream", {"name": name, "service": service}))
    return jobs


TARGET = Target("kubernetes", "namespace, workloads, services, ingress, network policies, backups and rules", _jobs)
