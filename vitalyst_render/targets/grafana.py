"""Grafana provisioning (datasource, dashboard provider) and the stack dashboard."""

from __future__ import annotations

from ..plan import StackPlan
from .base import Job, Target


def _jobs(plan: StackPlan, out: str) -> list[Job]:
    return [
        # Grafana expands $VAR in provisioning files: dollar-yaml keeps values literal.
        Job("grafana/datasource.yml.j2", "grafana/provisioning/datasources/prometheus.yml", "dollar-yaml", "yaml"),
        Job("grafana/dashboards.yml.j2", "grafana/provisioning/dashboards/vitalyst.yml", "dollar-yaml", "yaml"),
        *(Job("grafana/overview.json.j2", m.dashboard, "json", "json", {"monitoring": m}) for m in plan.monitorings),
    ]


TARGET = Target("grafana", "datasource and dashboard provisioning plus dashboards", _jobs)
