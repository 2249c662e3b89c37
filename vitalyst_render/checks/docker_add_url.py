"""VR105: no ADD of a remote URL."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ._support import at
from .base import Problem, Severity, check
from .context import CheckContext
from .examples import Edit, Expect, Fail, Pass

_REMOTE = re.compile(r"^(https?://|git@|git://)", re.IGNORECASE)

_TINI = "https://github.com/krallin/tini/releases/download/v0.19.0/tini"

EXAMPLES = (
    Fail(
        "the final stage downloads a binary with ADD and no checksum",
        edits=[Edit("docker/backend/Dockerfile", "WORKDIR /app\n", f"ADD {_TINI} /usr/local/bin/tini\nWORKDIR /app\n")],
        expect=[Expect("docker/backend/Dockerfile", f"ADD fetches {_TINI} with no checksum")],
    ),
    Pass(
        "ADD --checksum pins what the URL returns, and ADD of a local archive fetches nothing",
        edits=[Edit("docker/backend/Dockerfile", "WORKDIR /app\n",
                    f"ADD --checksum=sha256:{'a' * 64} {_TINI} /usr/local/bin/tini\nADD vendor/tools.tar.gz /opt/\nWORKDIR /app\n")],
    ),
)


@check("VR105", "docker-add-url", "ADD fetches a remote URL", Severity.ERROR, examples=EXAMPLES)
def add_url(ctx: CheckContext) -> Iterable[Problem]:
    """``ADD https://…`` downloads at build time without a checksum, so the build
    depends on whatever the server returns that day.

    Remediation: download in a builder stage and verify a checksum, or ``ADD
    --checksum=sha256:…`` (BuildKit), or vendor the file and ``COPY`` it.
    """
    for artefact, parsed in ctx.dockerfiles:
        for instruction in parsed.instructions:
            if instruction.keyword != "ADD":
                continue
            flags, rest = instruction.flags_and_rest()
            rest = rest.strip()
            if "checksum" in flags:
                continue
            vector = instruction.exec_form if rest.startswith("[") else None
            words = vector if vector is not None else rest.split()
            sources = words[:-1]
            for source in sources:
                if _REMOTE.match(source):
                    yield Problem(f"ADD fetches {source} with no checksum", at(ctx, artefact, instruction),
                                  hint="COPY a vendored file, or ADD --checksum=sha256:…")
