"""VR102: the final stage has a HEALTHCHECK whose program exists in that stage."""

from __future__ import annotations

import json
import re
from typing import Iterable

from ..dockerfile import Stage, shell_words
from ._support import at, dockerfiles, installed_packages
from .base import Problem, Severity, check

_CORE = {"sh", "cat", "grep", "head", "test", "true", "false", "timeout", "sleep", "echo", "printf", "env", "ls"}
_DEBIAN = _CORE | {"bash", "dash", "sed", "awk", "mawk", "perl"}
_BUSYBOX = _CORE | {"wget", "nc", "sed", "awk", "ash"}
#: What an official image's final stage provides, by image name (last path part).
IMAGE_PROGRAMS = {
    "python": {"python", "python3", "pip", "pip3"},
    "node": {"node", "npm", "npx", "corepack"},
    "redis": {"redis-server", "redis-cli"},
    "neo4j": {"neo4j", "neo4j-admin", "cypher-shell", "java"},
    "debian": set(),
    "ubuntu": set(),
    "alpine": set(),
}
def programs_in(stage: Stage, image: str) -> set[str] | None:
    """Programs the stage can run, or None when its base image is unknown to us.
    ``image`` is what the stage really starts from (ARGs and stage names resolved)."""
    image = image.split("@")[0]
    name, _, tag = image.rpartition(":") if ":" in image.split("/")[-1] else (image, "", "")
    family = name.split("/")[-1]
    if family not in IMAGE_PROGRAMS:
        return None
    programs = set(IMAGE_PROGRAMS[family])
    programs |= _BUSYBOX if "alpine" in tag or family == "alpine" else _DEBIAN
    for run in stage.all("RUN"):
        programs |= installed_packages(run.arguments)
    for copy in stage.all("COPY") + stage.all("ADD"):
        _, rest = copy.flags_and_rest()
        words = rest.split()
        if len(words) < 2:
            continue
        destination = words[-1]
        if re.match(r"^/(usr/(local/)?)?s?bin/[^/]+$", destination):
            programs.add(destination.rsplit("/", 1)[-1])
        elif re.match(r"^/(usr/(local/)?)?s?bin/$", destination):
            programs |= {source.rstrip("/").rsplit("/", 1)[-1] for source in words[:-1]}
    return programs


def healthcheck_program(arguments: str) -> str | None:
    """argv[0] of a HEALTHCHECK CMD (exec or shell form); None for HEALTHCHECK NONE."""
    _, rest = _strip_flags(arguments)
    if rest.upper().startswith("NONE"):
        return None
    command = rest[3:].strip() if rest.upper().startswith("CMD") else rest
    if command.startswith("["):
        try:
            vector = json.loads(command)
        except json.JSONDecodeError:
            return ""
        if len(vector) >= 3 and vector[0].rsplit("/", 1)[-1] in ("sh", "bash", "ash") and vector[1] == "-c":
            command = vector[2]  # the shell runs the script's first program
        else:
            return vector[0] if vector else ""
    words = [w for w in shell_words(command) if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w)]
    return words[0] if words else ""


def _strip_flags(arguments: str) -> tuple[list[str], str]:
    flags, rest = [], arguments.strip()
    while rest.startswith("--"):
        token, _, rest = rest.partition(" ")
        flags.append(token)
        rest = rest.strip()
    return flags, rest


@check("VR102", "docker-healthcheck", "final stage has no HEALTHCHECK, or its program is not in the image", Severity.ERROR)
def healthcheck(ctx) -> Iterable[Problem]:
    """The final stage declares a ``HEALTHCHECK`` that the image can actually run.

    The seed's backend image probed with ``curl`` on ``python:3.11-slim``, which has no
    curl, so the container never became healthy. We know what the official base images
    (python, node, redis, neo4j, debian, alpine) provide, plus what the stage installs
    with apt-get/apk or copies into a bin folder.

    Remediation: probe with a program the stage has (``python -c``, ``node -e``), or
    install the program in the final stage.

    The probed port must be one the image exposes.

    FAIL: ``FROM python:3.12-slim`` then ``HEALTHCHECK CMD curl -f http://localhost:8000/health``.
    PASS: ``HEALTHCHECK CMD ["python", "-c", "import urllib.request; ..."]``.
    """
    for artefact, parsed in dockerfiles(ctx):
        final = parsed.final
        if final is None:
            continue
        probe = final.last("HEALTHCHECK")
        if probe is None:
            yield Problem("final stage has no HEALTHCHECK", at(ctx, artefact, final.line),
                          hint="the service's health block renders one; is health.kind set?")
            continue
        program = healthcheck_program(probe.arguments)
        if program is None:
            yield Problem("HEALTHCHECK NONE disables the image's health check", at(ctx, artefact, probe))
            continue
        exposed = {word.split("/")[0] for e in final.all("EXPOSE") for word in e.arguments.split()}
        for port in re.findall(r"127\.0\.0\.1[:/](\d+)|localhost:(\d+)", probe.arguments):
            port = port[0] or port[1]
            if exposed and port not in exposed:
                yield Problem(f"HEALTHCHECK probes port {port}, which the image does not EXPOSE ({', '.join(sorted(exposed))})",
                              at(ctx, artefact, probe), hint="health.port must be one of the service's ports")
        image = parsed.image_of(final)
        available = programs_in(final, image)
        if available is None:
            yield Problem(f"cannot tell whether {program!r} exists in {image!r}", at(ctx, artefact, probe),
                          severity=Severity.INFO)
        elif program.rsplit("/", 1)[-1] not in available:
            yield Problem(f"HEALTHCHECK runs {program!r}, which the final stage ({image}) does not have",
                          at(ctx, artefact, probe), hint="probe with python -c / node -e, or install it in the final stage")
