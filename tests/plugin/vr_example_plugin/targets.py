"""A target of the plugin's own: an inventory of the stack's services, from the plan."""

from __future__ import annotations

from pathlib import Path

from vitalyst_render.plugin import Job, StackPlan, Target


def _jobs(plan: StackPlan, out: str) -> list[Job]:
    return [Job("inventory/services.json.j2", "inventory/services.json", "json", "json")]


TARGET = Target("inventory", "a JSON inventory of the services", _jobs, templates=Path(__file__).parent / "templates")
