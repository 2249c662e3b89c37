"""One service as each artefact renders it, for the VR6xx checks to hold against the plan.

Every reading here is structural: the HEALTHCHECK's exec-form vector, the compose
healthcheck's ``test`` list, the probe fields of a container. Nothing is read back out
of a command line with a pattern, so a probe path or a port in any form compares
exactly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from ..artefacts import Artefact
from ..dockerfile import Stage
from ..errors import Location
from ..plan import ServicePlan
from ..profile.types import duration_seconds
from .context import CheckContext, KubeObject

_DURATION = re.compile(r"([0-9]+(ms|s|m|h))+")


def seconds(value: Any) -> float | None:
    """A duration as compose or a Dockerfile flag spells it, in seconds; None when unreadable."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and _DURATION.fullmatch(value):
        return duration_seconds(value)
    return None


@dataclass(frozen=True)
class RenderedProbe:
    """A health check as one artefact renders it; None where the artefact says nothing.
    Its place is found only for a finding: finding it reads the artefact's positions."""

    label: str
    locate: Callable[[], Location]
    argv: tuple[str, ...] | None = None
    port: int | None = None
    path: str | None = None
    interval: float | None = None
    timeout: float | None = None
    retries: int | None = None
    start_period: float | None = None

    @property
    def where(self) -> Location:
        return self.locate()


def final_stage(ctx: CheckContext, service: ServicePlan) -> tuple[Artefact, Stage] | None:
    """The final stage of the service's own Dockerfile."""
    if service.build is None:
        return None
    artefact = ctx.artefact(f"docker/{service.name}/Dockerfile")
    if artefact is None or artefact.data is None or artefact.data.final is None:
        return None
    return artefact, artefact.data.final


def dockerfile_probe(ctx: CheckContext, service: ServicePlan) -> RenderedProbe | None:
    found = final_stage(ctx, service)
    if found is None:
        return None
    artefact, final = found
    instruction = final.last("HEALTHCHECK")
    if instruction is None:
        return None
    flags, rest = instruction.flags_and_rest()
    command = rest.strip()
    argv: tuple[str, ...] | None = None
    if command.upper().startswith("CMD"):
        try:
            vector = json.loads(command[3:].strip())
            argv = tuple(str(word) for word in vector) if isinstance(vector, list) else None
        except json.JSONDecodeError:
            argv = None
    retries = flags.get("retries", "")
    return RenderedProbe(
        "Dockerfile HEALTHCHECK", partial(ctx.location, artefact.path, instruction.line, 1), argv,
        interval=seconds(flags.get("interval")), timeout=seconds(flags.get("timeout")),
        retries=int(retries) if retries.isdigit() else None, start_period=seconds(flags.get("start-period")),
    )


def compose_probe(ctx: CheckContext, name: str) -> RenderedProbe | None:
    view = ctx.compose
    service = view.services.get(name) if view is not None else None
    health = service.get("healthcheck") if service is not None else None
    if view is None or not isinstance(health, dict):
        return None
    test = health.get("test")
    # Compose interpolates the file: "$$" is how it reads one literal "$".
    argv = tuple(str(w).replace("$$", "$") for w in test[1:]) if isinstance(test, list) and test[:1] == ["CMD"] else None
    retries = health.get("retries")
    return RenderedProbe(
        "compose healthcheck", partial(ctx.where, view.artefact, "services", name, "healthcheck"), argv,
        interval=seconds(health.get("interval")), timeout=seconds(health.get("timeout")),
        retries=retries if isinstance(retries, int) else None, start_period=seconds(health.get("start_period")),
    )


def main_container(obj: KubeObject, service: str) -> tuple[dict[str, Any], tuple[str | int, ...]] | None:
    """The service's own container in one of its workloads, with its path."""
    containers = ((obj.spec.get("template") or {}).get("spec") or {}).get("containers") or []
    for index, container in enumerate(containers):
        if isinstance(container, dict) and container.get("name") == service:
            return container, ("spec", "template", "spec", "containers", index)
    return None


def kube_probes(ctx: CheckContext, service: ServicePlan) -> Iterator[tuple[str, RenderedProbe]]:
    """(probe field, probe) for each probe of the service's container in each of its workloads."""
    for obj in ctx.service_objects(service.name):
        found = main_container(obj, service.name)
        if found is None:
            continue
        container, path = found
        for field in ("startupProbe", "readinessProbe", "livenessProbe"):
            spec = container.get(field)
            if not isinstance(spec, dict):
                continue
            http = spec.get("httpGet") or {}
            tcp = spec.get("tcpSocket") or {}
            command = (spec.get("exec") or {}).get("command")
            port = http.get("port", tcp.get("port"))
            yield field, RenderedProbe(
                f"{obj.label} {field}", partial(obj.at, *path, field),
                # Kubernetes expands $(VAR) in exec probes, so the rendered vector escapes $.
                tuple(str(w).replace("$$", "$") for w in command) if isinstance(command, list) else None,
                port if isinstance(port, int) else None, http.get("path"),
                spec.get("periodSeconds"), spec.get("timeoutSeconds"), spec.get("failureThreshold"),
            )


def kube_containers(ctx: CheckContext, service: ServicePlan) -> Iterator[tuple[KubeObject, dict[str, Any], tuple[str | int, ...]]]:
    """(workload, the service's container, its path) for each workload of the service."""
    for obj in ctx.service_objects(service.name):
        found = main_container(obj, service.name)
        if found is not None:
            yield obj, found[0], found[1]


def compose_service(ctx: CheckContext, name: str) -> tuple[dict[str, Any], Callable[[], Location]] | None:
    """The service in the compose file, and how to find where it is (for a finding)."""
    view = ctx.compose
    if view is None or name not in view.services:
        return None
    return view.services[name], partial(ctx.where, view.artefact, "services", name)


# -- an overlay the examples of the Redis and cross checks share ------------------------------
