"""VR101: the final stage runs as a numeric, unprivileged user without a login shell."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ._support import at
from .base import Problem, Severity, check
from .context import CheckContext
from .examples import Edit, Expect, Fail, Pass

MIN_UID = 10000
_NOLOGIN = ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false")

EXAMPLES = (
    Fail(
        "the final stage names its user instead of a numeric uid",
        edits=[Edit("docker/backend/Dockerfile", "USER 10001:10001", "USER vitalyst")],
        expect=[Expect("docker/backend/Dockerfile", "USER 'vitalyst' is not numeric; runAsNonRoot cannot verify a name")],
    ),
    Fail(
        "no USER in the final stage: the container runs as root",
        edits=[Edit("docker/frontend/Dockerfile", "USER 10001:10001\n", "")],
        expect=[Expect("docker/frontend/Dockerfile", "final stage has no USER: the container runs as root")],
    ),
    Fail(
        "USER 0:0 in the final stage",
        edits=[Edit("docker/backend/Dockerfile", "USER 10001:10001", "USER 0:0")],
        expect=[Expect("docker/backend/Dockerfile", "USER uid 0 is below 10000 (root)")],
    ),
    Fail(
        "the runtime account is created with a login shell",
        edits=[Edit("docker/backend/Dockerfile", "--shell /usr/sbin/nologin", "--shell /bin/bash")],
        expect=[Expect("docker/backend/Dockerfile", "account created with a login shell")],
    ),
    Pass(
        "a builder stage may run as root and create accounts; only the final stage counts",
        edits=[Edit("docker/backend/Dockerfile", "WORKDIR /build\n", "USER root\nRUN useradd --create-home builder\nWORKDIR /build\n")],
    ),
)


@check("VR101", "docker-final-user", "final stage does not run as a numeric non-root user", Severity.ERROR, examples=EXAMPLES)
def final_user(ctx: CheckContext) -> Iterable[Problem]:
    """The last stage of every Dockerfile sets ``USER`` to a numeric uid ≥ 10000.

    A missing ``USER`` runs the app as root. A name instead of a number cannot be
    verified by Kubernetes ``runAsNonRoot``, and uids below 10000 can collide with
    accounts on the host. An account created in the stage must have no login shell.

    Remediation: ``USER 10001:10001`` after creating the account with
    ``useradd --shell /usr/sbin/nologin``; set ``build.user`` in the profile.
    """
    for artefact, parsed in ctx.dockerfiles:
        final = parsed.final
        if final is None:
            continue
        user = final.last("USER")
        if user is None:
            yield Problem("final stage has no USER: the container runs as root", at(ctx, artefact, final.line),
                          hint="set USER <uid>:<gid> with a uid of at least 10000")
            continue
        uid = user.arguments.split(":")[0].strip()
        if "$" in uid:
            yield Problem(f"USER {user.arguments!r} comes from a build argument; cannot verify it", at(ctx, artefact, user),
                          severity=Severity.INFO)
        elif not uid.isdigit():
            yield Problem(f"USER {user.arguments!r} is not numeric; runAsNonRoot cannot verify a name",
                          at(ctx, artefact, user), hint="use the numeric uid:gid of build.user")
        elif int(uid) < MIN_UID:
            yield Problem(f"USER uid {uid} is below {MIN_UID}" + (" (root)" if int(uid) == 0 else ""),
                          at(ctx, artefact, user), hint="set build.user.uid to 10000 or more")
        for instruction in final.all("RUN"):
            for command in re.split(r"&&|;|\|\|", instruction.arguments):
                words = command.split()
                if words and words[0].rsplit("/", 1)[-1] in ("useradd", "adduser") and not any(shell in command for shell in _NOLOGIN):
                    yield Problem("account created with a login shell", at(ctx, artefact, instruction),
                                  hint="add --shell /usr/sbin/nologin")
