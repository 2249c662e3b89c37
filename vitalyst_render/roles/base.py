"""What a role is: everything a service's kind contributes to the stack plan.

A role is keyed by its ``kind`` and owns the pydantic ``model`` of that kind's
services. The plan asks it, for each of its services, what to build (a Dockerfile),
how to probe it, which extra environment, arguments, secrets and files it needs,
which sidecars run beside it, how Prometheus scrapes it, which memory settings live
inside it, which backup jobs copy its data, and which alerts and panels watch all of
its services. Every hook has a neutral default, so a plugin role overrides only what
its kind has.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from ..probes import ProbeProgram
from ..profile.models import Profile, ServiceSpec

if TYPE_CHECKING:
    from ..monitoring import Alert, AlertContext, Panel
    from ..plan import BackupJob, MemoryBudget, RoleFile, ScrapeTarget, ServicePlan, Sidecar


class Role:
    """The base of every role; subclasses set ``kind`` and ``model`` and override hooks."""

    #: The ``kind`` value that selects this role in a profile.
    kind: ClassVar[str] = ""
    #: The pydantic model of this kind's services; its ``kind`` field is ``Literal[kind]``.
    model: ClassVar[type[ServiceSpec]] = ServiceSpec
    #: The program that performs HTTP health probes inside this kind's image.
    http_probe: ClassVar[ProbeProgram] = "bash"
    #: (Dockerfile template, ignore-file template) for kinds whose image this stack builds.
    dockerfile_templates: ClassVar[tuple[str, str] | None] = None
    #: Metrics a scraped service of this kind exports when its profile lists none.
    default_catalogue: ClassVar[tuple[str, ...]] = ()

    def probe_program(self, service: ServiceSpec) -> ProbeProgram:
        return self.http_probe

    def env(self, name: str, service: ServiceSpec, profile: Profile) -> dict[str, str]:
        """Environment the kind adds; the profile's own ``env`` wins on a clash."""
        return {}

    def command(self, name: str, service: ServiceSpec) -> tuple[str, ...] | None:
        """The entrypoint when the profile sets no ``command``."""
        return None

    def args(self, name: str, service: ServiceSpec) -> tuple[str, ...] | None:
        """The image command when the profile sets no ``args``."""
        return None

    def secrets(self, name: str, service: ServiceSpec) -> tuple[str, ...]:
        """Secrets the kind mounts besides the profile's ``secrets`` list."""
        return ()

    def files(self, name: str, service: ServiceSpec, profile: Profile) -> tuple[RoleFile, ...]:
        """Files rendered for the service (mounted configs, templates for operators)."""
        return ()

    def sidecars(self, name: str, service: ServiceSpec, profile: Profile) -> tuple[Sidecar, ...]:
        return ()

    def scrape(self, name: str, service: ServiceSpec) -> ScrapeTarget | None:
        """How Prometheus scrapes the service: by default its own ``metrics`` endpoint."""
        from ..plan import ScrapeTarget

        metrics = service.metrics
        if metrics is None:
            return None
        catalogue = tuple(metrics.catalogue) if metrics.catalogue is not None else self.default_catalogue
        if metrics.http is not None:
            catalogue = tuple(dict.fromkeys([*catalogue, *metrics.http.names]))
        return ScrapeTarget(name, name, metrics.port, metrics.path, name, catalogue, metrics.http)

    def memory(self, name: str, service: ServiceSpec, profile: Profile) -> MemoryBudget | None:
        """Memory settings inside the container and the share of the limit they may take."""
        return None

    def backups(self, name: str, service: ServiceSpec, profile: Profile) -> tuple[BackupJob, ...]:
        """Kubernetes backup CronJobs for the service's data."""
        return ()

    def alerts(self, services: Sequence[ServicePlan], context: AlertContext) -> list[Alert]:
        """Alerts for every service of this kind, each with its firing and silent scenarios."""
        return []

    def panels(self, services: Sequence[ServicePlan], context: AlertContext) -> list[Panel]:
        return []


#: What prometheus_client and prom-client export without any code of the app's.
PROCESS_METRICS = ("process_resident_memory_bytes", "process_cpu_seconds_total")
