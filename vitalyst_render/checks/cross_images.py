"""VR604: each service runs its planned image, the same reference in compose and Kubernetes."""

from __future__ import annotations

from collections.abc import Iterable

from ._cross import compose_service, kube_containers
from .base import Problem, Severity, check
from .context import CheckContext


@check("VR604", "cross-image-parity", "a service runs different images in compose and Kubernetes", Severity.ERROR)
def image_parity(ctx: CheckContext) -> Iterable[Problem]:
    """A service's compose ``image`` and its Kubernetes container ``image`` are the
    planned reference, digest included, so both platforms run the bytes that were
    tested (a service that shares another's build runs that image). In blue-green the
    idle colour may run the next release (``deployment.idle_release``), and only it. In
    prod every reference carries a digest.

    Remediation: images come from ``services.<name>.image``; do not override one platform.

    FAIL: compose ``redis:7.0.15@sha256:…`` and Kubernetes ``redis:7.2``.
    PASS: the identical reference in both.
    """
    prod = ctx.profile.environment.tier == "prod"
    for service in ctx.plan.services.values():
        related = (ctx.in_profile("services", service.name),)
        compose = compose_service(ctx, service.name)
        if compose is not None:
            image = compose[0].get("image")
            if image != service.image:
                yield Problem(f"service {service.name}: compose runs {image!r} but the plan says {service.image!r}", compose[1], related=related)
        for obj, container, path in kube_containers(ctx, service):
            colour = obj.metadata.get("labels", {}).get("vitalyst.io/color")
            wanted = service.images_by_colour.get(colour, service.image)
            image = container.get("image")
            if image != wanted:
                yield Problem(f"service {service.name}: {obj.label} runs {image!r} but the plan says {wanted!r}"
                              + (f" (compose runs {service.image!r})" if compose is not None else ""),
                              obj.at(*path, "image"), related=tuple(x for x in [compose[1] if compose else None] if x) + related)
        if prod and "@sha256:" not in service.image:
            where = compose[1] if compose is not None else ctx.in_profile("services", service.name)
            yield Problem(f"service {service.name}: prod image {service.image!r} has no digest", where, related=related)
