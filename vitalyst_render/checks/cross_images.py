"""VR604: each service runs its planned image, the same reference in compose and Kubernetes."""

from __future__ import annotations

from collections.abc import Iterable

from ._cross import compose_service, kube_containers
from .base import Problem, Severity, check
from .context import CheckContext
from .examples import ADD_DOCS, ADD_WORKER, Edit, Expect, Fail, Pass

_REDIS = "redis:7.0.15-bookworm@sha256:" + "44" * 32
_BACKEND = "ghcr.io/vitalyst/backend:1.0.0@sha256:" + "11" * 32
_NEXT_BACKEND = "ghcr.io/vitalyst/backend:1.1.0@sha256:" + "ab" * 32
_WORKER = "ghcr.io/vitalyst/worker:1.0.0@sha256:" + "77" * 32
#: The next release, which the idle colour of a blue-green deployment may run.
_IDLE_RELEASE = f"""deployment:
  idle_release:
    tag: "1.1.0"
    digests:
      backend: "sha256:{"ab" * 32}"
      frontend: "sha256:{"cd" * 32}"
"""

EXAMPLES = (
    Fail("Kubernetes runs redis:7.2 while compose runs the pinned 7.0.15",
         edits=[Edit("kubernetes/redis.yaml", f'image: "{_REDIS}"', 'image: "redis:7.2"')],
         expect=[Expect("kubernetes/redis.yaml", f"service redis: StatefulSet redis runs 'redis:7.2' but the plan says {_REDIS!r} "
                                                 f"(compose runs {_REDIS!r})")]),
    Fail("compose runs another image than the plan",
         edits=[Edit("compose/docker-compose.yml", f'image: "{_REDIS}"', 'image: "redis:7.2"')],
         expect=[Expect("compose/docker-compose.yml", f"service redis: compose runs 'redis:7.2' but the plan says {_REDIS!r}")]),
    Fail("a prod service moved to a tag that render pin has not pinned",
         overlay="services:\n  neo4j:\n    image: {tag: 5.26.1-community}\n",
         expect=[Expect("compose/docker-compose.yml", "service neo4j: prod image 'neo4j:5.26.1-community' has no digest")]),
    Fail("a worker sharing the backend's build that runs an image of its own, in both colours", overlay=ADD_WORKER,
         edits=[Edit("kubernetes/worker.yaml", _BACKEND, _WORKER)],
         expect=[Expect("kubernetes/worker.yaml", f"service worker: Deployment worker-{colour} runs {_WORKER!r} but the plan says "
                                                  f"{_BACKEND!r} (compose runs {_BACKEND!r})") for colour in ("blue", "green")]),
    Fail("the idle colour left on the current release when the profile names the next one", overlay=_IDLE_RELEASE,
         edits=[Edit("kubernetes/backend.yaml", _NEXT_BACKEND, _BACKEND)],
         expect=[Expect("kubernetes/backend.yaml", f"service backend: Deployment backend-green runs {_BACKEND!r} but the plan says "
                                                   f"{_NEXT_BACKEND!r} (compose runs {_BACKEND!r})")]),
    Pass("blue-green: the idle colour of the backend and of a worker on its build runs the next release",
         overlay=ADD_WORKER + _IDLE_RELEASE),
    Pass("an upstream nginx added in the profile with its digest", overlay=ADD_DOCS),
)


@check("VR604", "cross-image-parity", "a service runs different images in compose and Kubernetes", Severity.ERROR,
       examples=EXAMPLES)
def image_parity(ctx: CheckContext) -> Iterable[Problem]:
    """A service's compose ``image`` and its Kubernetes container ``image`` are the
    planned reference, digest included, so both platforms run the bytes that were
    tested (a service that shares another's build runs that image). In blue-green the
    idle colour may run the next release (``deployment.idle_release``), and only it. In
    prod every reference carries a digest.

    Remediation: images come from ``services.<name>.image`` (or the image of the service
    named in ``build.from``); do not override one platform.
    """
    prod = ctx.loaded.digests_required
    for service in ctx.plan.services.values():
        related = (ctx.in_profile("services", service.name),)
        compose = compose_service(ctx, service.name)
        if compose is not None:
            image = compose[0].get("image")
            if image != service.image:
                yield Problem(f"service {service.name}: compose runs {image!r} but the plan says {service.image!r}", compose[1](), related=related)
        for obj, container, path in kube_containers(ctx, service):
            colour = obj.metadata.get("labels", {}).get("vitalyst.io/color")
            wanted = service.images_by_colour.get(colour, service.image)
            image = container.get("image")
            if image != wanted:
                yield Problem(f"service {service.name}: {obj.label} runs {image!r} but the plan says {wanted!r}"
                              + (f" (compose runs {service.image!r})" if compose is not None else ""),
                              obj.at(*path, "image"), related=((compose[1](),) if compose else ()) + related)
        if prod and "@sha256:" not in service.image:
            where = compose[1]() if compose is not None else ctx.in_profile("services", service.name)
            yield Problem(f"service {service.name}: prod image {service.image!r} has no digest", where, related=related)
