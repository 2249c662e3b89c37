"""Operations docs per profile: the runbook with the profile's real values, and the topology."""

from __future__ import annotations

from ..plan import StackPlan
from .base import Job, Target


def _jobs(plan: StackPlan, out: str) -> list[Job]:
    return [
        Job("docs/RUNBOOK.md.j2", "docs/RUNBOOK.md", "markdown", "none"),
        Job("docs/topology.mmd.j2", "docs/topology.mmd", "mermaid", "none"),
    ]


TARGET = Target("docs", "the runbook (RUNBOOK.md) and the network topology (topology.mmd, Mermaid)", _jobs)
