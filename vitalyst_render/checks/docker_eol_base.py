"""VR106: base images run a maintained language runtime."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ._support import at
from .base import Problem, Severity, check
from .context import CheckContext
from .docker_base_pinning import split_reference
from .examples import Expect, Fail, Pass

#: Oldest release line still maintained upstream, per runtime image.
MINIMUM = {"python": (3, 11), "node": (22,)}

EXAMPLES = (
    Fail(
        "node-app images on Node 20, end of life since April 2026: every stage that uses it",
        overlay="build:\n  base_images:\n    node: {tag: 20-bookworm-slim}\n",
        expect=[Expect("docker/frontend/Dockerfile", "node 20-bookworm-slim is end of life (need 22 or newer)")] * 3,
    ),
    Fail(
        "the seed's frontend base, Node 18 on Alpine",
        overlay="build:\n  base_images:\n    node: {tag: 18-alpine}\n",
        expect=[Expect("docker/frontend/Dockerfile", "node 18-alpine is end of life (need 22 or newer)")] * 3,
    ),
    Fail(
        "python-app images on Python 3.9",
        overlay="build:\n  base_images:\n    python: {tag: 3.9-slim-bookworm}\n",
        expect=[Expect("docker/backend/Dockerfile", "python 3.9-slim-bookworm is end of life (need 3.11 or newer)")] * 2,
    ),
    Pass(
        "Python 3.11, the oldest line still maintained, is accepted",
        overlay="build:\n  base_images:\n    python: {tag: 3.11-slim-bookworm}\n",
    ),
    Pass(
        "a major-only tag such as python:3-slim follows the newest release of that line",
        profile="dev",
        overlay="build:\n  base_images:\n    python: {tag: 3-slim-bookworm}\n",
    ),
)


@check("VR106", "docker-eol-base", "base image runs an end-of-life runtime", Severity.ERROR, examples=EXAMPLES)
def eol_base(ctx: CheckContext) -> Iterable[Problem]:
    """Python images are 3.11 or newer and Node images a maintained LTS (22 or newer;
    Node 20 reached end of life in April 2026). The seed built the frontend on Node 18.
    A tag that names only a major version (``python:3``) follows the newest release of
    that line, so it is judged by the major version alone.

    Remediation: raise ``build.base_images.<base>.tag`` (the base a service's ``build.base`` names).
    """
    for artefact, parsed in ctx.dockerfiles:
        for stage in parsed.stages:
            name, tag, _ = split_reference(parsed.named_image(stage))
            family = name.rsplit("/", 1)[-1]
            match = re.match(r"^(\d+)(?:\.(\d+))?", tag or "")
            if family not in MINIMUM or match is None:
                continue
            version = tuple(int(part) for part in match.groups() if part is not None)
            minimum = MINIMUM[family]
            if version[: len(minimum)] < minimum[: len(version)]:
                yield Problem(f"{family} {tag} is end of life (need {'.'.join(map(str, minimum))} or newer)",
                              at(ctx, artefact, stage.line), hint="raise the base image tag in build.base_images")
