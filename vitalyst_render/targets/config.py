"""Files the services' roles render: redis.conf and its ACL template, and any a plugin
role adds. Compose mounts them as configs and Kubernetes as ConfigMaps."""

from __future__ import annotations

from ..plan import StackPlan
from .base import Job, Target


def _jobs(plan: StackPlan, out: str) -> list[Job]:
    return [
        Job(file.template, file.path, file.syntax, "none", {"service": service, "file": file, **file.context})
        for service in plan.services.values()
        for file in service.files
    ]


TARGET = Target("config", "configuration files of the services (redis.conf, ACL templates)", _jobs)
