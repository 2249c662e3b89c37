"""Kubernetes manifests, one file per concern, for profiles that enable Kubernetes."""

from __future__ import annotations

from ..plan import StackPlan
from .base import Job, Target


def _jobs(plan: StackPlan, out: str) -> list[Job]:
    if plan.profile.environment.kubernetes is None:
        return []
    jobs = [
        Job("kubernetes/namespace.yaml.j2", "kubernetes/namespace.yaml", "yaml", "yaml-stream"),
        Job("kubernetes/networkpolicy.yaml.j2", "kubernetes/networkpolicy.yaml", "yaml", "yaml-stream"),
    ]
    if plan.backups:
        jobs.append(Job("kubernetes/backups.yaml.j2", "kubernetes/backups.yaml", "yaml", "yaml-stream"))
    if plan.exposed:
        jobs.append(Job("kubernetes/ingress.yaml.j2", "kubernetes/ingress.yaml", "yaml", "yaml-stream"))
    jobs.append(Job("kubernetes/prometheusrule.yaml.j2", "kubernetes/prometheusrule.yaml", "yaml", "yaml-stream"))
    for service in plan.services.values():
        jobs.append(Job("kubernetes/workload.yaml.j2", f"kubernetes/{service.name}.yaml", "yaml", "yaml-stream", {"service": service}))
    return jobs


TARGET = Target("kubernetes", "namespace, workloads, services, ingress, network policies, backups and rules", _jobs)
