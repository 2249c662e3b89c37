"""VR307: container images are tagged, never latest, and digest-pinned in prod."""

from __future__ import annotations

from collections.abc import Iterable

from .base import Problem, Severity, check
from .context import CheckContext
from .docker_base_pinning import split_reference
from .examples import ADD_DOCS, ADD_WORKER, Edit, Expect, Fail, Pass

REDIS = "kubernetes/redis.yaml"
IDLE_DIGESTS = """deployment:
  idle_release:
    tag: "1.1.0"
    digests:
      backend: "sha256:7777777777777777777777777777777777777777777777777777777777777777"
      frontend: "sha256:8888888888888888888888888888888888888888888888888888888888888888"
"""

EXAMPLES = (
    Fail(
        "a prod idle release without digests: the idle colour runs bare tags",
        overlay='deployment:\n  idle_release: {tag: "1.1.0"}\n',
        expect=[
            Expect("kubernetes/backend.yaml",
                   "Deployment backend-green container 'backend' image 'ghcr.io/vitalyst/backend:1.1.0' is not pinned by digest in prod"),
            Expect("kubernetes/frontend.yaml",
                   "Deployment frontend-green container 'frontend' image 'ghcr.io/vitalyst/frontend:1.1.0' is not pinned by digest in prod"),
        ],
    ),
    Fail(
        "a container image on the moving tag latest",
        profile="staging",
        edits=[Edit(REDIS, 'image: "redis:7.0.15-bookworm"', 'image: "redis:latest"')],
        expect=[Expect(REDIS, "StatefulSet redis container 'redis' image 'redis:latest' uses the moving tag latest")],
    ),
    Fail(
        "an untagged image from a registry with a port (the port is not a tag)",
        profile="staging",
        edits=[Edit(REDIS, 'image: "redis:7.0.15-bookworm"', 'image: "registry.example:5000/redis"')],
        expect=[Expect(REDIS, "StatefulSet redis container 'redis' image 'registry.example:5000/redis' has no tag")],
    ),
    Pass("a prod idle release that pins every built image by digest", overlay=IDLE_DIGESTS),
    Pass("services added in prod: a worker on the backend's pinned image, an nginx with its own digest",
         overlay=ADD_WORKER + ADD_DOCS.removeprefix("services:\n")),
)


@check("VR307", "k8s-image-pinning", "container image is not pinned as the environment requires", Severity.ERROR, examples=EXAMPLES)
def image_pinning(ctx: CheckContext) -> Iterable[Problem]:
    """Every container image names a tag other than ``latest``; in prod it also pins a
    digest, so every node runs the bytes that were tested.

    Remediation: set ``services.<name>.image.tag``; in prod run ``render pin`` to record
    each tag's digest in the profile's image lock (or write ``digest``, and
    ``deployment.idle_release.digests`` for the idle colour of a blue-green release, in
    the profile). Until the images can be pinned, a reason in the image lock (``unpinned:``) turns
    these errors into one VR608 warning.
    """
    prod = ctx.loaded.digests_required
    for found in ctx.containers:
        obj, container, path = found.obj, found.container, found.path
        image = str(container.get("image", ""))
        _, tag, digest = split_reference(image)
        who = f"{obj.label} container {container.get('name')!r}"
        if tag is None and digest is None:
            yield Problem(f"{who} image {image!r} has no tag", obj.at(*path, "image"))
        elif tag == "latest":
            yield Problem(f"{who} image {image!r} uses the moving tag latest", obj.at(*path, "image"))
        elif prod and digest is None:
            yield Problem(f"{who} image {image!r} is not pinned by digest in prod", obj.at(*path, "image"),
                          hint=f"run render pin --profile {ctx.plan.name}")
