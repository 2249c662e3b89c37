"""VR202: every compose service is locked down."""

from __future__ import annotations

from typing import Iterable

from ._support import compose_services, where
from .base import Problem, Severity, check


@check("VR202", "compose-hardening", "compose service is missing a hardening setting", Severity.ERROR)
def compose_hardening(ctx) -> Iterable[Problem]:
    """Each service drops all capabilities, forbids privilege escalation, runs on a
    read-only root as a numeric non-root user, rotates its logs and has a memory
    limit. A writable root is allowed only where the profile says why
    (``writable_root_reason``), and then reported as info.

    Remediation: the template sets all of these from ``security`` and the service's
    ``resources``; an upstream image's account goes in ``image_user``.

    No capability is added back: upstream images run as their own account instead.

    FAIL: a service with ``cap_drop: []``, ``cap_add: [SYS_ADMIN]`` or no ``security_opt: [no-new-privileges:true]``.
    PASS: ``cap_drop: [ALL]``, ``security_opt: [no-new-privileges:true]``, ``read_only: true``, ``user: "10001:10001"``.
    """
    for name, service, artefact in compose_services(ctx):
        if "ALL" not in (service.get("cap_drop") or []):
            yield Problem(f"service {name} does not drop ALL capabilities", where(ctx, artefact, "services", name),
                          hint="cap_drop: [ALL]")
        if service.get("cap_add"):
            yield Problem(f"service {name} adds capabilities {service['cap_add']}", where(ctx, artefact, "services", name, "cap_add"),
                          hint="run the image as its own account (image_user) instead")
        if "no-new-privileges:true" not in (service.get("security_opt") or []):
            yield Problem(f"service {name} allows privilege escalation", where(ctx, artefact, "services", name),
                          hint="security_opt: [no-new-privileges:true]")
        planned = ctx.plan.services.get(name)
        reason = planned.writable_root_reason if planned is not None else None
        if service.get("read_only") is not True:
            if reason:
                yield Problem(f"service {name} has a writable root: {reason}", where(ctx, artefact, "services", name, "read_only"),
                              severity=Severity.INFO)
            else:
                yield Problem(f"service {name} has a writable root filesystem", where(ctx, artefact, "services", name),
                              hint="read_only: true with tmpfs for scratch paths, or set writable_root_reason")
        user = str(service.get("user", ""))
        if not user:
            yield Problem(f"service {name} runs as the image's default user (often root)", where(ctx, artefact, "services", name),
                          hint="set image_user for upstream images", severity=Severity.WARNING)
        elif user.split(":")[0] in ("0", "root"):
            yield Problem(f"service {name} runs as root", where(ctx, artefact, "services", name, "user"))
        options = (service.get("logging") or {}).get("options") or {}
        if "max-size" not in options or "max-file" not in options:
            yield Problem(f"service {name} does not rotate its logs", where(ctx, artefact, "services", name),
                          hint="logging.options max-size and max-file")
        limits = ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
        if "memory" not in limits:
            yield Problem(f"service {name} has no memory limit", where(ctx, artefact, "services", name),
                          hint=f"set services.{name}.resources.limits.memory")
