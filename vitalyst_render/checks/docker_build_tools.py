"""VR107: the final stage carries no build tools."""

from __future__ import annotations

from collections.abc import Iterable

from ._support import at, installed_packages
from .base import Problem, Severity, check
from .context import CheckContext
from .examples import Edit, Expect, Fail, Pass

BUILD_TOOLS = {"build-essential", "gcc", "g++", "make", "cmake", "git", "clang", "musl-dev", "libc6-dev", "python3-dev"}

EXAMPLES = (
    Fail(
        "a compiler (version-pinned) and git installed in the final stage",
        edits=[Edit("docker/backend/Dockerfile", "WORKDIR /app\n",
                    "RUN apt-get update && apt-get install -y --no-install-recommends gcc=4:12.2.0-3 git\nWORKDIR /app\n")],
        expect=[Expect("docker/backend/Dockerfile", "final stage installs build tool gcc"),
                Expect("docker/backend/Dockerfile", "final stage installs build tool git")],
    ),
    Pass(
        "build-essential in the builder stage, whose result the final stage copies",
        edits=[Edit("docker/backend/Dockerfile", "WORKDIR /build\n",
                    "RUN apt-get update && apt-get install -y --no-install-recommends build-essential\nWORKDIR /build\n")],
    ),
    Pass(
        "a runtime library that only looks like a toolchain (libgcc-s1, git-man) in the final stage",
        edits=[Edit("docker/backend/Dockerfile", "WORKDIR /app\n",
                    "RUN apt-get update && apt-get install -y --no-install-recommends libgcc-s1 git-man\nWORKDIR /app\n")],
    ),
)


@check("VR107", "docker-final-build-tools", "final stage installs build tools", Severity.WARNING, examples=EXAMPLES)
def final_build_tools(ctx: CheckContext) -> Iterable[Problem]:
    """Compilers and source-control tools belong in a builder stage. In the image that
    runs they only add size and give an attacker a toolchain.

    Remediation: install them in the builder stage and ``COPY --from=builder`` the result.
    """
    for artefact, parsed in ctx.dockerfiles:
        final = parsed.final
        if final is None:
            continue
        for run in final.all("RUN"):
            for tool in sorted(installed_packages(run.arguments) & BUILD_TOOLS):
                yield Problem(f"final stage installs build tool {tool}", at(ctx, artefact, run), hint="move it to a builder stage")
