"""VR106: base images run a maintained language runtime."""

from __future__ import annotations

import re
from typing import Iterable

from ._support import at, dockerfiles
from .base import Problem, Severity, check
from .docker_base_pinning import split_reference

#: Oldest release line still maintained upstream, per runtime image.
MINIMUM = {"python": (3, 11), "node": (22,)}


@check("VR106", "docker-eol-base", "base image runs an end-of-life runtime", Severity.ERROR)
def eol_base(ctx) -> Iterable[Problem]:
    """Python images are 3.11 or newer and Node images a maintained LTS (22 or newer;
    Node 20 reached end of life in April 2026). The seed built the frontend on Node 18.

    Remediation: raise ``build.base_images.<role>.tag``.

    FAIL: ``FROM node:20-alpine`` or ``FROM python:3.9-slim``.
    PASS: ``FROM node:22-bookworm-slim``, ``FROM python:3.12-slim-bookworm``.
    """
    for artefact, parsed in dockerfiles(ctx):
        for stage in parsed.stages:
            name, tag, _ = split_reference(parsed.named_image(stage))
            family = name.rsplit("/", 1)[-1]
            match = re.match(r"^(\d+)(?:\.(\d+))?", tag or "")
            if family not in MINIMUM or match is None:
                continue
            version = tuple(int(part) for part in match.groups() if part is not None)
            minimum = MINIMUM[family]
            if version[: len(minimum)] < minimum:
                yield Problem(f"{family} {tag} is end of life (need {'.'.join(map(str, minimum))} or newer)",
                              at(ctx, artefact, stage.line), hint="raise the base image tag in build.base_images")
