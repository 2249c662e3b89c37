"""VR604: each service runs the same image reference in compose and Kubernetes."""

from __future__ import annotations

from typing import Iterable

from ._cross import views
from .base import Problem, Severity, check


@check("VR604", "cross-image-parity", "a service runs different images in compose and Kubernetes", Severity.ERROR)
def image_parity(ctx) -> Iterable[Problem]:
    """A service's compose ``image`` and its Kubernetes container ``image`` (the active
    colour's, in blue-green) are the same reference, digest included, so both platforms
    run the bytes that were tested; in prod both carry a digest.

    Remediation: images come from ``services.<name>.image``; do not override one platform.

    FAIL: compose ``redis:7.0.15@sha256:…`` and Kubernetes ``redis:7.2``.
    PASS: the identical reference in both.
    """
    prod = ctx.profile.environment.tier == "prod"
    for name, view in views(ctx).items():
        compose_image = (view.compose.get("service") or {}).get("image")
        active = ctx.profile.deployment.active_color
        for obj, container, path in view.kube:
            colour = ((obj.document.get("metadata") or {}).get("labels") or {}).get("vitalyst.io/color")
            if colour not in (None, active):
                continue  # the idle colour may run the next release
            image = container.get("image")
            if compose_image and image != compose_image:
                yield Problem(f"service {name}: Kubernetes runs {image!r} but compose runs {compose_image!r}",
                              obj.at(ctx, *path, "image"), related=(view.compose["where"],))
        if prod and compose_image and "@sha256:" not in compose_image:
            yield Problem(f"service {name}: prod image {compose_image!r} has no digest", view.compose["where"])
