"""VR103: every base image is tagged, never latest, and digest-pinned in prod."""

from __future__ import annotations

from collections.abc import Iterable

from ._support import at
from .base import Problem, Severity, check
from .context import CheckContext
from .examples import Edit, Expect, Fail, Pass

EXAMPLES = (
    Fail(
        "a prod base image moved to a tag that render pin has not pinned: both stages that use it",
        overlay="build:\n  base_images:\n    python: {tag: 3.12.8-slim-bookworm}\n",
        expect=[Expect("docker/backend/Dockerfile", "base image 'python:3.12.8-slim-bookworm' is not pinned by digest in prod")] * 2,
    ),
    Fail(
        "a dev base image on the moving tag latest",
        profile="dev",
        overlay="build:\n  base_images:\n    node: {tag: latest}\n",
        expect=[Expect("docker/frontend/Dockerfile", "base image 'node:latest' uses the moving tag latest")] * 3,
    ),
    Fail(
        "a stage FROM an image with no tag at all",
        profile="dev",
        edits=[Edit("docker/backend/Dockerfile", "FROM python:3.12-slim-bookworm AS builder", "FROM python AS builder")],
        expect=[Expect("docker/backend/Dockerfile", "base image 'python' has no tag")],
    ),
    Pass(
        "a registry port is not a tag: a dev mirror localhost:5000/python with a version tag",
        profile="dev",
        overlay="build:\n  base_images:\n    python: {image: 'localhost:5000/python'}\n",
    ),
    Pass(
        "stages FROM an earlier stage, and FROM scratch, need no tag or digest",
        edits=[Edit("docker/backend/Dockerfile", 'CMD ["uvicorn"',
                    'FROM builder AS test\nRUN /opt/venv/bin/python -m compileall src\n'
                    'FROM scratch AS export\nCOPY --from=test /build/src /src\nCMD ["uvicorn"')],
    ),
)


def split_reference(reference: str) -> tuple[str, str | None, str | None]:
    """``name[:tag][@digest]`` → (name, tag, digest); a registry port is not a tag."""
    name, _, digest = reference.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = None
    if ":" in last:
        name, _, tag = name.rpartition(":")
    return name, tag, digest or None


@check("VR103", "docker-base-pinning", "base image is not pinned as the environment requires", Severity.ERROR, examples=EXAMPLES)
def base_pinning(ctx: CheckContext) -> Iterable[Problem]:
    """Every ``FROM`` names a tag other than ``latest``; in prod it also pins a digest.

    A moving tag rebuilds a different image from the same Dockerfile. In prod the
    digest makes the build reproducible and the supply chain auditable. References to
    earlier stages and ``scratch`` are exempt.

    Remediation: set ``build.base_images.<base>.tag`` (the base a service's ``build.base``
    names); in prod run ``render pin`` to record its digest in the profile's image lock
    (or write ``digest`` in the profile). Until the images can be pinned,
    a reason in the image lock (``unpinned:``) turns these errors into one VR608 warning.
    """
    prod = ctx.loaded.digests_required
    for artefact, parsed in ctx.dockerfiles:
        stages: set[str] = set()
        for stage in parsed.stages:
            image = parsed.named_image(stage)
            if image.lower() not in stages and image != "scratch":
                _, tag, digest = split_reference(image)
                where = at(ctx, artefact, stage.line)
                if "$" in image:
                    yield Problem(f"base image {image!r} depends on a build argument without a default", where,
                                  severity=Severity.WARNING)
                elif tag is None and digest is None:
                    yield Problem(f"base image {image!r} has no tag", where, hint="pin a version tag")
                elif tag == "latest":
                    yield Problem(f"base image {image!r} uses the moving tag latest", where, hint="pin a version tag")
                elif prod and digest is None:
                    yield Problem(f"base image {image!r} is not pinned by digest in prod", where,
                                  hint=f"run render pin --profile {ctx.plan.name}, or set build.base_images.<base>.digest")
            if stage.name:
                stages.add(stage.name.lower())
