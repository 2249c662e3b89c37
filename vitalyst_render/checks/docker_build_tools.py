"""VR107: the final stage carries no build tools."""

from __future__ import annotations

from typing import Iterable

from ._support import at, dockerfiles, installed_packages
from .base import Problem, Severity, check

BUILD_TOOLS = {"build-essential", "gcc", "g++", "make", "cmake", "git", "clang", "musl-dev", "libc6-dev", "python3-dev"}


@check("VR107", "docker-final-build-tools", "final stage installs build tools", Severity.WARNING)
def final_build_tools(ctx) -> Iterable[Problem]:
    """Compilers and source-control tools belong in a builder stage. In the image that
    runs they only add size and give an attacker a toolchain.

    Remediation: install them in the builder stage and ``COPY --from=builder`` the result.

    FAIL: ``RUN apt-get install -y build-essential`` in the last stage.
    PASS: ``RUN pip install …`` in ``FROM … AS builder``, ``COPY --from=builder /opt/venv /opt/venv`` after.
    """
    for artefact, parsed in dockerfiles(ctx):
        final = parsed.final
        if final is None or len(parsed.stages) == 0:
            continue
        for run in final.all("RUN"):
            for tool in sorted(installed_packages(run.arguments) & BUILD_TOOLS):
                yield Problem(f"final stage installs build tool {tool}", at(ctx, artefact, run), hint="move it to a builder stage")
