"""VR103: every base image is tagged, never latest, and digest-pinned in prod."""

from __future__ import annotations

from typing import Iterable

from ._support import at, dockerfiles
from .base import Problem, Severity, check


def split_reference(reference: str) -> tuple[str, str | None, str | None]:
    """``name[:tag][@digest]`` → (name, tag, digest); a registry port is not a tag."""
    name, _, digest = reference.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = None
    if ":" in last:
        name, _, tag = name.rpartition(":")
    return name, tag, digest or None


@check("VR103", "docker-base-pinning", "base image is not pinned as the environment requires", Severity.ERROR)
def base_pinning(ctx) -> Iterable[Problem]:
    """Every ``FROM`` names a tag other than ``latest``; in prod it also pins a digest.

    A moving tag rebuilds a different image from the same Dockerfile. In prod the
    digest makes the build reproducible and the supply chain auditable. References to
    earlier stages and ``scratch`` are exempt.

    Remediation: set ``build.base_images.<role>.tag``, and ``digest`` in the prod profile.

    FAIL: ``FROM python`` or ``FROM node:latest``; in prod, ``FROM python:3.12-slim``.
    PASS: ``FROM python:3.12-slim@sha256:…``.
    """
    prod = ctx.profile.environment.tier == "prod"
    for artefact, parsed in dockerfiles(ctx):
        stages: set[str] = set()
        for stage in parsed.stages:
            image = parsed.named_image(stage)
            if image.lower() in stages or image == "scratch":
                pass
            else:
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
                                  hint="set build.base_images.<role>.digest")
            if stage.name:
                stages.add(stage.name.lower())
