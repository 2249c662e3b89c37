"""VR208: data stores sit on an internal network; swarm overlays are encrypted."""

from __future__ import annotations

from typing import Iterable

from ._support import compose_document, compose_services, where
from .base import Problem, Severity, check


@check("VR208", "compose-networks", "compose networks expose data stores or travel unencrypted", Severity.ERROR)
def compose_networks(ctx) -> Iterable[Problem]:
    """Services that keep data (a ``storage`` section) join only ``internal: true`` networks,
    which have no route out and cannot be published. In a swarm every overlay network
    encrypts its traffic between nodes.

    Remediation: the plan gives data stores only their callers' internal networks;
    keep them internal and encrypted.

    FAIL: neo4j on a network without ``internal: true``; an overlay without ``encrypted: "true"``.
    PASS: ``data: {driver: overlay, internal: true, driver_opts: {encrypted: "true"}}``.
    """
    artefact = compose_document(ctx)
    if artefact is None:
        return
    networks = artefact.data.get("networks") or {}
    for name, network in networks.items():
        if isinstance(network, dict) and network.get("driver") == "overlay":
            if str((network.get("driver_opts") or {}).get("encrypted")) != "true":
                yield Problem(f"overlay network {name} is not encrypted", where(ctx, artefact, "networks", name),
                              hint='driver_opts: {encrypted: "true"}')
    for name, service, _ in compose_services(ctx):
        planned = ctx.plan.services.get(name)
        if planned is None or not planned.stateful:
            continue
        for index, network in enumerate(service.get("networks") or []):
            if not (networks.get(network) or {}).get("internal"):
                yield Problem(f"data store {name} joins non-internal network {network!r}",
                              where(ctx, artefact, "services", name, "networks", index))
