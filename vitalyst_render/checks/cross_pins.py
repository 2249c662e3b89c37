"""VR608: a prod profile that runs unpinned images says so, once, and only while it must."""

from __future__ import annotations

from collections.abc import Iterable

from ..profile.lock import image_sites
from .base import Problem, Severity, check
from .context import CheckContext
from .examples import SHIPPED_PROD, Expect, Fail, Pass

EXAMPLES = (
    Fail(
        "prod as shipped: no registry here holds its images, and its lock says so instead of holding digests",
        profile=SHIPPED_PROD,
        expect=[Expect("prod.lock.yaml", "prod renders 8 images without a digest, because: no registry this repository "
                       "can reach holds the Vitalyst images; run `render pin --profile prod` against yours and commit this file; "
                       "render deploy refuses them")],
    ),
    Pass("prod with every image pinned by its lock"),
    Pass("staging, where digests are not required", profile="staging"),
)


@check("VR608", "cross-image-pins", "prod renders unpinned images", Severity.WARNING, examples=EXAMPLES)
def unpinned_images(ctx: CheckContext) -> Iterable[Problem]:
    """A prod profile pins every image by digest: VR103, VR307 and VR604 refuse one
    without. Where no registry holds the images yet (the shipped prod profile), the
    image lock says why instead of holding made-up digests (``unpinned:`` in
    ``<profile>.lock.yaml``); then those checks are silent and this one warns, once,
    in every report, with the reason, until the images are pinned. ``render deploy``
    refuses unpinned images whatever the lock says.

    Remediation: run ``render pin --profile <name>`` against the registry that holds the
    images (it writes every digest and drops the reason) and commit the lock.
    """
    reason, where = ctx.loaded.unpinned, ctx.loaded.unpinned_at
    if reason is None or where is None or ctx.profile.environment.tier != "prod":
        return
    unpinned = sorted({site.reference for site in image_sites(ctx.profile) if site.digest is None})
    if unpinned:
        yield Problem(f"{ctx.plan.name} renders {len(unpinned)} images without a digest, because: {reason}; render deploy refuses them",
                      where, hint=f"render pin --profile {ctx.plan.name}")
