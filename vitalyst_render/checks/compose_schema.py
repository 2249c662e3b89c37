"""VR201: the compose file matches our strict schema of the Compose subset we emit."""

from __future__ import annotations

from typing import Iterable

from ..schemas import validator
from ._support import compose_document, where
from .base import Problem, Severity, check


@check("VR201", "compose-schema", "compose file breaks the strict compose schema", Severity.ERROR)
def compose_schema(ctx) -> Iterable[Problem]:
    """The compose file validates against ``schemas/compose.schema.json``: the exact
    subset of the Compose Specification we emit, with no unknown keys, no top-level
    ``version``, durations and sizes in the forms Docker reads, and every service
    carrying an image, healthcheck, read-only flag, dropped capabilities, networks,
    log rotation and resources. Every violation is reported at its line.

    Remediation: fix the compose template; the upstream specification accepts much
    more, but anything outside this subset is a template change that needs review.

    FAIL: a service without ``healthcheck``, or a top-level ``version: '3.8'``.
    PASS: the rendered compose file of every committed profile.
    """
    artefact = compose_document(ctx)
    if artefact is None:
        return
    errors = sorted(validator("compose.schema.json").iter_errors(artefact.data), key=lambda e: list(map(str, e.absolute_path)))
    for error in errors:
        path = tuple(error.absolute_path)
        shown = ".".join(str(p) for p in path) or "(top level)"
        yield Problem(f"{shown}: {error.message}", where(ctx, artefact, *path))
