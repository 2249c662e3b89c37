"""VR202: every compose service is locked down."""

from __future__ import annotations

from collections.abc import Iterable

from .base import Problem, Severity, check
from .context import COMPOSE, CheckContext
from .examples import ADD_DOCS, Edit, Expect, Fail, Pass

#: The shipped neo4j documents why its root stays writable: every example reports it (as info).
_NEO4J_WRITABLE = Expect(
    COMPOSE,
    "service neo4j has a writable root: the neo4j entrypoint writes NEO4J_* settings into "
    "/var/lib/neo4j/conf/neo4j.conf at every start, so the image's root filesystem must stay writable",
)
_DOCS_WITHOUT_USER = ADD_DOCS.replace("    image_user: {uid: 101, gid: 101}\n", "")

EXAMPLES = (
    Fail(
        "security.drop_capabilities set to [NET_RAW] in the profile: no service drops ALL",
        overlay="security: {drop_capabilities: [NET_RAW]}\n",
        expect=[Expect(COMPOSE, f"service {name} does not drop ALL capabilities")
                for name in ("backend", "frontend", "neo4j", "redis", "redis-exporter")] + [_NEO4J_WRITABLE],
    ),
    Fail(
        "security.no_new_privileges turned off in the profile",
        overlay="security: {no_new_privileges: false}\n",
        expect=[Expect(COMPOSE, f"service {name} allows privilege escalation")
                for name in ("backend", "frontend", "neo4j", "redis", "redis-exporter")] + [_NEO4J_WRITABLE],
    ),
    Fail(
        "a capability added back to a service (cap_add: [SYS_ADMIN])",
        edits=[Edit(COMPOSE, '    user: "999:999"\n', '    user: "999:999"\n    cap_add: [SYS_ADMIN]\n')],
        expect=[Expect(COMPOSE, "service redis adds capabilities ['SYS_ADMIN']"), _NEO4J_WRITABLE],
    ),
    Fail(
        'a service that runs as user "0:0"',
        edits=[Edit(COMPOSE, '    user: "999:999"\n', '    user: "0:0"\n')],
        expect=[Expect(COMPOSE, "service redis runs as root"), _NEO4J_WRITABLE],
    ),
    Fail(
        "an upstream nginx added without image_user runs as the image's default user (a warning)",
        overlay=_DOCS_WITHOUT_USER,
        expect=[Expect(COMPOSE, "service docs runs as the image's default user (often root)"), _NEO4J_WRITABLE],
    ),
    Fail(
        "a writable root that the profile explains (writable_root_reason) is reported as info, with the reason",
        overlay=ADD_DOCS + "    writable_root_reason: nginx writes its pid file next to its config\n",
        expect=[Expect(COMPOSE, "service docs has a writable root: nginx writes its pid file next to its config"), _NEO4J_WRITABLE],
    ),
    Pass(
        "an upstream nginx added with its image_user, and neo4j without a writable-root reason: both locked down",
        overlay=ADD_DOCS + "  neo4j:\n    writable_root_reason: null\n",
    ),
)


@check("VR202", "compose-hardening", "compose service is missing a hardening setting", Severity.ERROR, examples=EXAMPLES)
def compose_hardening(ctx: CheckContext) -> Iterable[Problem]:
    """Each service drops all capabilities, forbids privilege escalation, runs on a
    read-only root as a numeric non-root user, rotates its logs and has a memory
    limit. A writable root is allowed only where the profile says why
    (``writable_root_reason``), and then reported as info.

    Remediation: the template sets all of these from ``security`` and the service's
    ``resources``; an upstream image's account goes in ``image_user``.

    No capability is added back: upstream images run as their own account instead.
    """
    view = ctx.compose
    if view is None:
        return
    artefact = view.artefact
    for name, service in view.services.items():
        if "ALL" not in (service.get("cap_drop") or []):
            yield Problem(f"service {name} does not drop ALL capabilities", ctx.where(artefact, "services", name),
                          hint="cap_drop: [ALL]")
        if service.get("cap_add"):
            yield Problem(f"service {name} adds capabilities {service['cap_add']}", ctx.where(artefact, "services", name, "cap_add"),
                          hint="run the image as its own account (image_user) instead")
        if "no-new-privileges:true" not in (service.get("security_opt") or []):
            yield Problem(f"service {name} allows privilege escalation", ctx.where(artefact, "services", name),
                          hint="security_opt: [no-new-privileges:true]")
        planned = ctx.plan.services.get(name)
        reason = planned.writable_root_reason if planned is not None else None
        if service.get("read_only") is not True:
            if reason:
                yield Problem(f"service {name} has a writable root: {reason}", ctx.where(artefact, "services", name, "read_only"),
                              severity=Severity.INFO)
            else:
                yield Problem(f"service {name} has a writable root filesystem", ctx.where(artefact, "services", name),
                              hint="read_only: true with tmpfs for scratch paths, or set writable_root_reason")
        user = str(service.get("user", ""))
        if not user:
            yield Problem(f"service {name} runs as the image's default user (often root)", ctx.where(artefact, "services", name),
                          hint="set image_user for upstream images", severity=Severity.WARNING)
        elif user.split(":")[0] in ("0", "root"):
            yield Problem(f"service {name} runs as root", ctx.where(artefact, "services", name, "user"))
        options = (service.get("logging") or {}).get("options") or {}
        if "max-size" not in options or "max-file" not in options:
            yield Problem(f"service {name} does not rotate its logs", ctx.where(artefact, "services", name),
                          hint="logging.options max-size and max-file")
        limits = ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
        if "memory" not in limits:
            yield Problem(f"service {name} has no memory limit", ctx.where(artefact, "services", name),
                          hint=f"set services.{name}.resources.limits.memory")
