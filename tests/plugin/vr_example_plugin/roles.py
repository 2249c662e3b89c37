"""``memcached``: a kind of service vitalyst-render does not ship."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from vitalyst_render.plugin import Role, ServiceSpec, UpstreamService


class MemcachedService(UpstreamService):
    kind: Literal["memcached"] = Field(description="A memcached cache.")
    memory_mb: int = Field(default=64, ge=16, description="Cache size in MiB (memcached -m).")


class MemcachedRole(Role):
    kind: ClassVar[str] = "memcached"
    model = MemcachedService

    def args(self, name: str, service: ServiceSpec) -> tuple[str, ...]:
        assert isinstance(service, MemcachedService)
        return ("memcached", "-m", str(service.memory_mb))
