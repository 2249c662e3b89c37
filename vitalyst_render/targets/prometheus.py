"""Prometheus rules with their promtool unit tests and scrape config, per platform the
stack runs on, and the Alertmanager config they share."""

from __future__ import annotations

from ..plan import StackPlan
from .base import Job, Target


def _jobs(plan: StackPlan, out: str) -> list[Job]:
    jobs = []
    for monitoring in plan.monitorings:
        context = {"monitoring": monitoring}
        jobs += [
            Job("prometheus/rules.yml.j2", monitoring.rules_path, "yaml", "yaml", context),
            Job("prometheus/rules.test.yml.j2", monitoring.tests_path, "yaml", "yaml", context),
            Job("prometheus/prometheus.yml.j2", monitoring.config_path, "yaml", "yaml", context),
        ]
    return [*jobs, Job("prometheus/alertmanager.yml.j2", "prometheus/alertmanager.yml", "yaml", "yaml")]


TARGET = Target("prometheus", "alert rules, rule unit tests and scrape config per platform, and the Alertmanager config", _jobs)
