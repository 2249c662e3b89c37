"""VR210: a swarm stack file loads with every docker CLI we support; a local file stays version-free."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from .base import Problem, Severity, check
from .context import COMPOSE, CheckContext
from .examples import Edit, Expect, Fail, Pass

#: The newest file format docker CLI 20.10 (Debian bookworm's) loads for stack deploy.
STACK_VERSION = "3.8"
_VERSION_LINE = f'version: "{STACK_VERSION}"\n'

EXAMPLES = (
    Fail(
        "a swarm stack file without a version key: docker CLI 20.10 refuses it as version 1.0",
        edits=[Edit(COMPOSE, _VERSION_LINE, "")],
        expect=[Expect(COMPOSE, 'the swarm stack file has no version key; docker CLI 20.10 reads it as version 1.0 and refuses it')],
    ),
    Fail(
        "a swarm stack file that asks for a format CLI 20.10 does not know",
        edits=[Edit(COMPOSE, _VERSION_LINE, 'version: "3.9"\n')],
        expect=[Expect(COMPOSE, "the swarm stack file declares version '3.9'; expected '3.8', the newest format docker CLI 20.10 loads")],
    ),
    Fail(
        "the seed's version: '3.8' in a local compose file, which Compose v2 calls obsolete",
        profile="dev",
        edits=[Edit(COMPOSE, "\nservices:\n", "\nversion: '3.8'\n\nservices:\n")],
        expect=[Expect(COMPOSE, "the local compose file declares version '3.8'; docker compose v2 ignores it and warns that it is obsolete")],
    ),
    Pass("the swarm stack file as rendered: version 3.8"),
    Pass("the local compose file as rendered: no version", profile="dev"),
)


@check("VR210", "compose-stack-version", "compose file's version key is wrong for how it is deployed", Severity.ERROR, examples=EXAMPLES)
def compose_stack_version(ctx: CheckContext) -> Iterable[Problem]:
    """A swarm stack file declares ``version: "3.8"``. ``docker stack deploy`` in
    docker CLI 20.10 (Debian bookworm's ``docker.io``) treats a file without a version
    as Compose 1.0 and refuses it; 3.8 is the newest format it knows, and newer CLIs
    load it unchanged. A local file for ``docker compose`` has no version: Compose v2
    ignores the key and warns that it is obsolete.

    Remediation: the compose template writes the version in swarm mode only.
    """
    view = ctx.compose
    if view is None:
        return
    version = view.data.get("version")
    where = partial(ctx.where, view.artefact, "version") if version is not None else partial(ctx.where, view.artefact)  # for a finding
    if ctx.plan.local:
        if version is not None:
            yield Problem(
                f"the local compose file declares version {str(version)!r}; docker compose v2 ignores it and warns that it is obsolete",
                where(),
                hint="remove the version key",
            )
        return
    if version is None:
        yield Problem(
            "the swarm stack file has no version key; docker CLI 20.10 reads it as version 1.0 and refuses it",
            where(),
            hint=f'version: "{STACK_VERSION}"',
        )
    elif str(version) != STACK_VERSION:
        yield Problem(
            f"the swarm stack file declares version {str(version)!r}; expected {STACK_VERSION!r}, the newest format docker CLI 20.10 loads",
            where(),
            hint=f'version: "{STACK_VERSION}"',
        )
