"""VR307: container images are tagged, never latest, and digest-pinned in prod."""

from __future__ import annotations

from typing import Iterable

from ._support import pod_containers
from .base import Problem, Severity, check
from .docker_base_pinning import split_reference


@check("VR307", "k8s-image-pinning", "container image is not pinned as the environment requires", Severity.ERROR)
def image_pinning(ctx) -> Iterable[Problem]:
    """Every container image names a tag other than ``latest``; in prod it also pins a
    digest, so every node runs the bytes that were tested.

    Remediation: set ``services.<name>.image.tag`` and, in prod, ``digest``.

    FAIL: ``image: redis`` or ``image: redis:latest``; in prod, ``image: redis:7.0.15``.
    PASS: ``image: redis:7.0.15@sha256:…``.
    """
    prod = ctx.profile.environment.tier == "prod"
    for obj, _, container, path in pod_containers(ctx):
        image = str(container.get("image", ""))
        _, tag, digest = split_reference(image)
        who = f"{obj.label} container {container.get('name')!r}"
        if tag is None and digest is None:
            yield Problem(f"{who} image {image!r} has no tag", obj.at(*path, "image"))
        elif tag == "latest":
            yield Problem(f"{who} image {image!r} uses the moving tag latest", obj.at(*path, "image"))
        elif prod and digest is None:
            yield Problem(f"{who} image {image!r} is not pinned by digest in prod", obj.at(*path, "image"))
