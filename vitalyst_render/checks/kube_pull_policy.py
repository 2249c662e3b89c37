"""VR318: a container's imagePullPolicy fits its image reference (checkov CKV_K8S_15/43)."""

from __future__ import annotations

from collections.abc import Iterable

from .base import Problem, Severity, check
from .context import CheckContext
from .docker_base_pinning import split_reference
from .examples import Edit, Expect, Fail, Pass

BACKEND = "kubernetes/backend.yaml"
REDIS = "kubernetes/redis.yaml"
_STAGING_BACKEND = 'image: "ghcr.io/vitalyst/backend:1.0.0"\n          imagePullPolicy: Always\n'
_STAGING_REDIS = 'image: "redis:7.0.15-bookworm"\n          imagePullPolicy: Always\n'
_PINNED_REDIS = f'image: "redis:7.0.15-bookworm@sha256:{"44" * 32}"\n          imagePullPolicy: IfNotPresent\n'
_RE_PUSHED = "a re-pushed tag is never pulled"

EXAMPLES = (
    Fail(
        "the old template: a tag-only image pulled only when the node lacks it",
        profile="staging",
        edits=[Edit(BACKEND, _STAGING_BACKEND, _STAGING_BACKEND.replace("Always", "IfNotPresent"))],
        expect=[Expect(BACKEND, "Deployment backend container 'backend' image 'ghcr.io/vitalyst/backend:1.0.0' is referenced "
                                f"by tag only, but its imagePullPolicy is IfNotPresent: {_RE_PUSHED}")],
    ),
    Fail(
        "no imagePullPolicy on a tag-only image: Kubernetes defaults it to IfNotPresent",
        profile="staging",
        edits=[Edit(REDIS, _STAGING_REDIS, _STAGING_REDIS.replace("          imagePullPolicy: Always\n", ""))],
        expect=[Expect(REDIS, "StatefulSet redis container 'redis' image 'redis:7.0.15-bookworm' is referenced by tag only "
                              f"and has no imagePullPolicy, which defaults to IfNotPresent: {_RE_PUSHED}")],
    ),
    Fail(
        "Never on a pinned image: a node without it cannot start the pod",
        edits=[Edit(REDIS, _PINNED_REDIS, _PINNED_REDIS.replace("IfNotPresent", "Never"))],
        expect=[Expect(REDIS, f"StatefulSet redis container 'redis' image 'redis:7.0.15-bookworm@sha256:{'44' * 32}' has "
                              "imagePullPolicy Never: a node that lacks the image never starts it")],
    ),
    Pass("prod after render pin: every image pinned by digest, pulled if not present"),
    Pass("a pinned image may still be pulled Always (the digest decides what runs)",
         edits=[Edit(REDIS, _PINNED_REDIS, _PINNED_REDIS.replace("IfNotPresent", "Always"))]),
    Pass("staging pins nothing: every container is pulled Always", profile="staging"),
    Pass("a pinned image without a policy defaults to IfNotPresent, which a digest makes safe",
         edits=[Edit(REDIS, _PINNED_REDIS, _PINNED_REDIS.replace("          imagePullPolicy: IfNotPresent\n", ""))]),
)


@check("VR318", "k8s-pull-policy", "imagePullPolicy lets a node keep running an old image", Severity.ERROR, examples=EXAMPLES)
def pull_policy(ctx: CheckContext) -> Iterable[Problem]:
    """Every container's ``imagePullPolicy`` fits its image reference. A tag can be pushed
    again with other bytes; a node that already holds the tag never asks the registry
    under ``IfNotPresent``, so some nodes run the new image and some the old one, and a
    fixed image never reaches them. A tag-only image must therefore be pulled
    ``Always``. An image pinned by digest names immutable bytes: ``IfNotPresent`` (or
    ``Always``) is fine. A missing policy defaults to ``IfNotPresent`` for any tag other
    than ``latest`` (VR307 refuses ``latest``), so it is a finding on a tag-only image.
    ``Never`` is always a finding: a node that lacks the image cannot start the pod.
    (checkov CKV_K8S_15 and CKV_K8S_43.)

    Remediation: the templates render ``Always`` for tag-only images and
    ``IfNotPresent`` for digests (:func:`vitalyst_render.plan.pull_policy`); pin the
    images (``render pin``) to avoid the registry round trip on every start.
    """
    for found in ctx.containers:
        obj, container, path = found.obj, found.container, found.path
        image = str(container.get("image", ""))
        _, tag, digest = split_reference(image)
        policy = container.get("imagePullPolicy")
        who = f"{obj.label} container {container.get('name')!r} image {image!r}"
        if policy == "Never":
            yield Problem(f"{who} has imagePullPolicy Never: a node that lacks the image never starts it",
                          obj.at(*path, "imagePullPolicy"), hint="use IfNotPresent for a digest, Always for a tag")
        elif digest is not None:
            continue
        elif policy is None and tag not in (None, "latest"):
            yield Problem(f"{who} is referenced by tag only and has no imagePullPolicy, which defaults to IfNotPresent: "
                          f"{_RE_PUSHED}", obj.at(*path, "image"), hint="set imagePullPolicy: Always, or pin the image by digest")
        elif policy is not None and policy != "Always":
            yield Problem(f"{who} is referenced by tag only, but its imagePullPolicy is {policy}: {_RE_PUSHED}",
                          obj.at(*path, "imagePullPolicy"), hint="set imagePullPolicy: Always, or pin the image by digest")
