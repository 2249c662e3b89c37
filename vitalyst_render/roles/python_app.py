"""``python-app``: a Python service whose image this stack builds.

A multi-stage Dockerfile (a venv on python-slim) that runs as ``build.user``; HTTP
health probes run ``python -c`` with urllib, which the final stage has. Several
services may share one build (``build: {from: api}``), so a worker runs the API's
image with another ``command``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from ..profile.models import AppService
from .base import PROCESS_METRICS, Role


class PythonApp(AppService):
    kind: Literal["python-app"] = Field(description="A Python service built from a multi-stage Dockerfile (a venv on python-slim).")


class PythonAppRole(Role):
    kind: ClassVar[str] = "python-app"
    model = PythonApp
    http_probe = "python"
    dockerfile_templates = ("docker/python-app.Dockerfile.j2", "docker/python-app.dockerignore.j2")
    default_catalogue = PROCESS_METRICS
