"""EXMP001: a release does not run images tagged ``dev``."""

from __future__ import annotations

from collections.abc import Iterable

from vitalyst_render.plugin import CheckContext, Edit, Expect, Fail, Pass, Problem, Severity, check

EXAMPLES = (
    Fail(
        "the dev profile's locally built images",
        profile="dev",
        expect=[
            Expect("compose/docker-compose.yml", "service backend runs the dev tag"),
            Expect("compose/docker-compose.yml", "service frontend runs the dev tag"),
        ],
    ),
    Pass("a release tag", profile="prod", edits=[Edit("compose/docker-compose.yml", "frontend:1.0.0", "frontend:1.0.1")]),
)


@check("EXMP001", "image-tag-dev", "an image runs the dev tag", Severity.WARNING, examples=EXAMPLES,
       help_uri="https://example.com/vr-example-plugin/checks#exmp001")
def dev_tags(ctx: CheckContext) -> Iterable[Problem]:
    """Images tagged ``dev`` are built on laptops; nothing else should run them.

    Remediation: set ``services.<name>.image.tag`` to a release.
    """
    view = ctx.compose
    if view is None:
        return
    for name, service in view.services.items():
        if str(service.get("image", "")).split("@")[0].endswith(":dev"):
            yield Problem(f"service {name} runs the dev tag", ctx.where(view.artefact, "services", name, "image"))
