"""VR105: no ADD of a remote URL."""

from __future__ import annotations

import re
from typing import Iterable

from ._support import at, dockerfiles
from .base import Problem, Severity, check

_REMOTE = re.compile(r"^(https?://|git@|git://)", re.IGNORECASE)


@check("VR105", "docker-add-url", "ADD fetches a remote URL", Severity.ERROR)
def add_url(ctx) -> Iterable[Problem]:
    """``ADD https://…`` downloads at build time without a checksum, so the build
    depends on whatever the server returns that day.

    Remediation: download in a builder stage and verify a checksum, or ``ADD
    --checksum=sha256:…`` (BuildKit), or vendor the file and ``COPY`` it.

    FAIL: ``ADD https://example.com/tool.tar.gz /opt/``.
    PASS: ``COPY tool.tar.gz /opt/``.
    """
    for artefact, parsed in dockerfiles(ctx):
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
