"""VR102: the final stage has a HEALTHCHECK whose program exists in that stage."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from ..dockerfile import Stage, shell_words
from ._support import at, installed_packages
from .base import Problem, Severity, check
from .context import CheckContext
from .examples import Edit, Expect, Fail, Pass

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
_SHELLS = ("sh", "bash", "ash", "dash")
#: A shell redirection word (``3<>/dev/tcp/…``, ``>/dev/null``, ``2>&1``).
_REDIRECTION = re.compile(r"^\d*(<|>|&>)")

_PROD_PYTHON = "python:3.12-slim-bookworm@sha256:" + "0a" * 32
_CURL_PROBE = 'services:\n  backend:\n    health: {kind: command, command: [curl, -f, "http://localhost:8000/health"]}\n'
#: A second node-app that builds its own image and serves on its own port.
ADD_ADMIN = """services:
  admin:
    kind: node-app
    image: {repository: ghcr.io/vitalyst/admin, tag: "1.0.0", digest: "sha256:7777777777777777777777777777777777777777777777777777777777777777"}
    build: {base: node, context: ../../../admin, command: [node, dist/admin.js]}
    ports: [{name: http, port: 3100}]
    replicas: 1
    resources:
      requests: {cpu: 100m, memory: 256Mi}
      limits: {cpu: 500m, memory: 512Mi}
    health: {kind: http, port: 3100, path: /health, interval: 30s, timeout: 5s, retries: 3, start_period: 20s}
    scratch_paths: [/tmp]
"""

EXAMPLES = (
    Fail(
        "the seed's probe: a python-app health command that runs curl, which the slim Python image lacks",
        overlay=_CURL_PROBE,
        expect=[Expect("docker/backend/Dockerfile", f"HEALTHCHECK runs 'curl', which the final stage ({_PROD_PYTHON}) does not have")],
    ),
    Fail(
        "the probe's port is not one the image exposes",
        edits=[Edit("docker/backend/Dockerfile", "EXPOSE 8000", "EXPOSE 8080")],
        expect=[Expect("docker/backend/Dockerfile", "HEALTHCHECK probes port 8000, which the image does not EXPOSE (8080)")],
    ),
    Fail(
        "a final stage whose HEALTHCHECK is commented out",
        edits=[Edit("docker/frontend/Dockerfile", "HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \\\n    CMD ",
                    "# HEALTHCHECK disabled: ")],
        expect=[Expect("docker/frontend/Dockerfile", "final stage has no HEALTHCHECK")],
    ),
    Fail(
        "a later HEALTHCHECK NONE overrides the probe",
        edits=[Edit("docker/backend/Dockerfile", 'CMD ["uvicorn"', 'HEALTHCHECK NONE\nCMD ["uvicorn"')],
        expect=[Expect("docker/backend/Dockerfile", "HEALTHCHECK NONE disables the image's health check")],
    ),
    Pass(
        "a curl probe is fine once the final stage installs curl",
        overlay=_CURL_PROBE,
        edits=[Edit("docker/backend/Dockerfile", "WORKDIR /app\n",
                    "RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\nWORKDIR /app\n")],
    ),
    Pass(
        "a tcp health check runs bash's /dev/tcp (exec 3<>…), which the Debian-based images have",
        overlay="services:\n  backend:\n    health: {kind: tcp, port: 8000}\n  frontend:\n    health: {kind: tcp, port: 3000}\n",
    ),
    Pass("a node-app added in the profile probes its own port with node", overlay=ADD_ADMIN),
)


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
    shell = "sh"  # the shell form runs /bin/sh -c
    if command.startswith("["):
        try:
            vector = json.loads(command)
        except json.JSONDecodeError:
            return ""
        if not isinstance(vector, list) or not all(isinstance(word, str) for word in vector):
            return ""
        if len(vector) >= 3 and vector[0].rsplit("/", 1)[-1] in _SHELLS and vector[1] == "-c":
            shell, command = vector[0], vector[2]  # the shell runs the script's first program
        else:
            return vector[0] if vector else ""
    words = [w for w in shell_words(command) if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w)]
    if words and words[0] == "exec":
        # ``exec prog …`` runs prog; ``exec 3<>/dev/tcp/…`` only redirects, in the shell itself.
        words = [w for w in words[1:] if not _REDIRECTION.match(w)] or [shell]
    return words[0] if words else ""


def _strip_flags(arguments: str) -> tuple[list[str], str]:
    flags: list[str] = []
    rest = arguments.strip()
    while rest.startswith("--"):
        token, _, rest = rest.partition(" ")
        flags.append(token)
        rest = rest.strip()
    return flags, rest


@check("VR102", "docker-healthcheck", "final stage has no HEALTHCHECK, or its program is not in the image", Severity.ERROR,
       examples=EXAMPLES)
def healthcheck(ctx: CheckContext) -> Iterable[Problem]:
    """The final stage declares a ``HEALTHCHECK`` that the image can actually run.

    The seed's backend image probed with ``curl`` on ``python:3.11-slim``, which has no
    curl, so the container never became healthy. We know what the official base images
    (python, node, redis, neo4j, debian, alpine) provide, plus what the stage installs
    with apt-get/apk or copies into a bin folder. The probed port must be one the image
    exposes.

    Remediation: probe with a program the stage has (``python -c``, ``node -e``), or
    install the program in the final stage.
    """
    for artefact, parsed in ctx.dockerfiles:
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
        for numeric, named in re.findall(r"127\.0\.0\.1[:/](\d+)|localhost:(\d+)", probe.arguments):
            port = numeric or named
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
