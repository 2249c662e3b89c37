"""VR205: published ports stay where they belong."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from .base import Problem, Severity, check
from .context import COMPOSE, CheckContext
from .examples import ADD_DOCS, Edit, Expect, Fail, Pass

_SWARM_PORT = "      - target: {0}\n        published: {0}\n        protocol: tcp\n        mode: ingress\n"
_BACKEND_SECRETS = ('      - source: redis-app-password\n        target: /run/secrets/redis-app-password\n'
                    '        uid: "10001"\n        gid: "10001"\n        mode: 256\n')

EXAMPLES = (
    Fail(
        'a laptop port bound on every interface ("8000:8000")',
        profile="dev",
        edits=[Edit(COMPOSE, '"127.0.0.1:8000:8000/tcp"', '"8000:8000"')],
        expect=[Expect(COMPOSE, "service backend publishes '8000:8000' beyond 127.0.0.1")],
    ),
    Fail(
        "a long-syntax laptop port without host_ip",
        profile="dev",
        edits=[Edit(COMPOSE, '      - "127.0.0.1:8000:8000/tcp"\n', "      - {target: 8000, published: 8000}\n")],
        expect=[Expect(COMPOSE, "service backend publishes {'target': 8000, 'published': 8000} beyond 127.0.0.1")],
    ),
    Fail(
        "a swarm service published without expose",
        edits=[Edit(COMPOSE, _BACKEND_SECRETS, _BACKEND_SECRETS + "    ports:\n" + _SWARM_PORT.format(8000))],
        expect=[Expect(COMPOSE, "service backend is published in a swarm, but only exposed services may be")],
    ),
    Fail(
        "a data store on internal networks only given a port, in a swarm",
        edits=[Edit(COMPOSE, '    user: "7474:7474"\n', '    user: "7474:7474"\n    ports:\n' + _SWARM_PORT.format(7474))],
        expect=[Expect(COMPOSE, "service neo4j publishes {'target': 7474, 'published': 7474, 'protocol': 'tcp', 'mode': 'ingress'} "
                                "but joins only internal networks, where Docker publishes nothing")],
    ),
    Fail(
        "a data store on internal networks only given a port, on a laptop",
        profile="dev",
        edits=[Edit(COMPOSE, '    user: "7474:7474"\n', '    user: "7474:7474"\n    ports:\n      - "127.0.0.1:7474:7474/tcp"\n')],
        expect=[Expect(COMPOSE, "service neo4j publishes '127.0.0.1:7474:7474/tcp' but joins only internal networks, "
                                "where Docker publishes nothing")],
    ),
    Pass("an upstream nginx exposed at /docs is published in the swarm beside the frontend", overlay=ADD_DOCS),
    Pass("an upstream nginx added on a laptop is published on 127.0.0.1 only", profile="dev", overlay=ADD_DOCS),
    Pass(
        "a long-syntax laptop port with host_ip: 127.0.0.1",
        profile="dev",
        edits=[Edit(COMPOSE, '      - "127.0.0.1:8000:8000/tcp"\n', "      - {target: 8000, published: 8000, host_ip: 127.0.0.1}\n")],
    ),
)


@check("VR205", "compose-published-ports", "compose publishes a port beyond what the environment allows", Severity.ERROR,
       examples=EXAMPLES)
def compose_ports(ctx: CheckContext) -> Iterable[Problem]:
    """On a laptop (``compose_mode: local``) every published port binds 127.0.0.1, so
    the stack is not reachable from the network. In a swarm only services with
    ``expose`` are published; the rest are reached over internal networks.

    Remediation: the template derives this from ``compose_mode`` and ``expose``; do not
    publish data stores.

    A port on a service that joins only internal networks is never published at all.
    """
    view = ctx.compose
    if view is None:
        return
    local = ctx.profile.environment.compose_mode == "local"
    networks = view.networks
    for name, service in view.services.items():
        joined = service.get("networks") or []
        internal_only = bool(joined) and all((networks.get(n) or {}).get("internal") for n in joined)
        for index, port in enumerate(service.get("ports") or []):
            location = partial(ctx.where, view.artefact, "services", name, "ports", index)  # for a finding
            if internal_only:
                yield Problem(f"service {name} publishes {port!r} but joins only internal networks, where Docker publishes nothing",
                              location(), hint="drop the port, or attach the service to a non-internal network")
                continue
            if local:
                host_ip = port.get("host_ip") if isinstance(port, dict) else (str(port).split(":")[0] if str(port).count(":") == 2 else None)
                if host_ip != "127.0.0.1":
                    yield Problem(f"service {name} publishes {port!r} beyond 127.0.0.1", location(),
                                  hint='bind as "127.0.0.1:HOST:CONTAINER"')
            elif (planned := ctx.plan.services.get(name)) is None or planned.expose is None:
                yield Problem(f"service {name} is published in a swarm, but only exposed services may be", location(),
                              hint=f"set services.{name}.expose, or drop the port")
