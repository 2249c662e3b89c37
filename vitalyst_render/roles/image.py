"""``image``: any upstream image, run as published (an nginx, a search engine, a proxy).

Nothing is built; the profile gives the image, its ports, command, health, env,
secrets and storage. Kubernetes probes HTTP natively; the compose healthcheck runs
``probe_with`` inside the image, so say which HTTP client it has (bash's ``/dev/tcp``
by default, or ``wget``/``curl``).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from ..probes import ProbeProgram
from ..profile.models import ServiceSpec, UpstreamService
from .base import Role


class ImageService(UpstreamService):
    kind: Literal["image"] = Field(description="Any upstream image, run as published.")
    probe_with: Literal["bash", "wget", "curl"] = Field(
        default="bash", description="The program in the image that performs HTTP health probes for compose."
    )


class ImageRole(Role):
    kind: ClassVar[str] = "image"
    model = ImageService

    def probe_program(self, service: ServiceSpec) -> ProbeProgram:
        assert isinstance(service, ImageService)
        return service.probe_with
