"""Prometheus rules with their promtool unit tests, scrape config and Alertmanager config."""

from __future__ import annotations

from ..plan import StackPlan
from .base import Job, Target


def _jobs(plan: StackPlan, out: str) -> list[Job]:
    return [
        Job("prometheus/rules.yml.j2", "prometheus/rules.yml", "yaml", "yaml"),
        Job("prometheus/rules.test.yml.j2", "prometheus/rules.test.yml", "yaml", "yaml"),
        Job("prometheus/prometheus.yml.j2", "prometheus/prometheus.yml", "yaml", "yaml"),
        Job("prometheus/alertmanager.yml.j2", "prometheus/alertmanager.yml", "yaml", "yaml"),
    ]


TARGET = Target("prometheus", "alert rules, rule unit tests, scrape and Alertmanager config", _jobs)
