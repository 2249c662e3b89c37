"""``node-app``: a Node.js service whose image this stack builds.

A multi-stage Dockerfile (``npm ci --omit=dev``, then the built ``dist/``) that runs as
``build.user``; HTTP health probes run ``node -e``. A ``--max-old-space-size`` in
``NODE_OPTIONS`` must fit the memory limit (VR603).
"""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import Field

from ..plan import MemoryBudget, MemorySource
from ..profile.models import AppService, Profile, ServiceSpec
from .base import PROCESS_METRICS, Role


class NodeApp(AppService):
    kind: Literal["node-app"] = Field(description="A Node.js service built from a multi-stage Dockerfile (npm ci --omit=dev).")


class NodeAppRole(Role):
    kind: ClassVar[str] = "node-app"
    model = NodeApp
    http_probe = "node"
    dockerfile_templates = ("docker/node-app.Dockerfile.j2", "docker/node-app.dockerignore.j2")
    default_catalogue = (*PROCESS_METRICS, "nodejs_eventloop_lag_seconds")

    def memory(self, name: str, service: ServiceSpec, profile: Profile) -> MemoryBudget | None:
        # V8's old space must fit the container, or the kernel kills Node before its GC runs.
        if re.search(r"--max-old-space-size=\d+", service.env.get("NODE_OPTIONS", "")):
            return MemoryBudget((MemorySource("env", "NODE_OPTIONS", "node-mib"),), 1.0, "V8's old space (--max-old-space-size)")
        return None
