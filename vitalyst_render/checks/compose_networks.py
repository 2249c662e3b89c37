"""VR208: data stores sit on an internal network; swarm overlays are encrypted."""

from __future__ import annotations

from collections.abc import Iterable

from .base import Problem, Severity, check
from .context import COMPOSE, CheckContext
from .examples import ADD_DOCS, Edit, Expect, Fail, Pass

EXAMPLES = (
    Fail(
        "a data store given egress_ports in the profile joins an edge network with a route out",
        overlay="services:\n  neo4j:\n    egress_ports: [443]\n",
        expect=[Expect(COMPOSE, "data store neo4j joins non-internal network 'neo4j-edge'")],
    ),
    Fail(
        "a data store's network without internal: true, and an overlay without encryption",
        edits=[
            Edit(COMPOSE, "  backend-to-redis:\n    driver: overlay\n    internal: true\n", "  backend-to-redis:\n    driver: overlay\n"),
            Edit(COMPOSE, '  backend-edge:\n    driver: overlay\n    attachable: true\n    driver_opts:\n      encrypted: "true"\n',
                 "  backend-edge:\n    driver: overlay\n    attachable: true\n"),
        ],
        expect=[
            Expect(COMPOSE, "data store redis joins non-internal network 'backend-to-redis'"),
            Expect(COMPOSE, "overlay network backend-edge is not encrypted"),
        ],
    ),
    Pass("an upstream nginx published on a non-internal edge network: not a data store", overlay=ADD_DOCS),
    Pass(
        "an upstream service given a data volume and no expose stays on internal networks",
        overlay=ADD_DOCS.replace("    expose: {path: /docs}\n", "") + "    storage: {size: 1Gi, mount: /data}\n",
    ),
)


@check("VR208", "compose-networks", "compose networks expose data stores or travel unencrypted", Severity.ERROR, examples=EXAMPLES)
def compose_networks(ctx: CheckContext) -> Iterable[Problem]:
    """Services that keep data (a ``storage`` section) join only ``internal: true`` networks,
    which have no route out and cannot be published. In a swarm every overlay network
    encrypts its traffic between nodes.

    Remediation: the plan gives data stores only their callers' internal networks;
    keep them internal and encrypted.
    """
    view = ctx.compose
    if view is None:
        return
    networks = view.networks
    for name, network in networks.items():
        if isinstance(network, dict) and network.get("driver") == "overlay":
            if str((network.get("driver_opts") or {}).get("encrypted")) != "true":
                yield Problem(f"overlay network {name} is not encrypted", ctx.where(view.artefact, "networks", name),
                              hint='driver_opts: {encrypted: "true"}')
    for name, service in view.services.items():
        planned = ctx.plan.services.get(name)
        if planned is None or not planned.stateful:
            continue
        for index, network in enumerate(service.get("networks") or []):
            if not (networks.get(network) or {}).get("internal"):
                yield Problem(f"data store {name} joins non-internal network {network!r}",
                              ctx.where(view.artefact, "services", name, "networks", index))
