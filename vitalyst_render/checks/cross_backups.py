"""VR612: a database on Kubernetes without a backup says why, in every report."""

from __future__ import annotations

from collections.abc import Iterable

from .base import Problem, Severity, check
from .context import CheckContext
from .examples import Expect, Fail, Pass

_REASON = "the graph is rebuilt from the source systems every night"

EXAMPLES = (
    Fail(
        "staging decides that its Neo4j goes without a backup, and says why",
        profile="staging",
        overlay=f"services:\n  neo4j:\n    backup:\n      method: none\n      reason: {_REASON}\n",
        expect=[Expect("example.yaml", f"service neo4j has no backup (method none), because: {_REASON}; "
                                       "its RPO is unbounded: only a manual dump can restore it")],
    ),
    Pass("staging as shipped: Neo4j is dumped in a nightly maintenance window", profile="staging"),
    Pass("dev: compose on a laptop has no backup jobs to decide", profile="dev"),
)


@check("VR612", "cross-backup-decision", "a database on Kubernetes has no backup", Severity.WARNING, examples=EXAMPLES)
def backup_decision(ctx: CheckContext) -> Iterable[Problem]:
    """A database on Kubernetes is backed up, or its profile says why not.
    Neo4j Community Edition has no online backup, so ``services.<name>.backup`` is a
    decision: ``method: maintenance-window`` (a nightly window that stops the database
    for the dump) or ``method: none`` with a written ``reason``. ``none`` renders no
    backup job, nothing that fails every night, and this check warns with the reason in
    every report, so the missing backup (an unbounded RPO) stays visible.

    Remediation: set ``backup.method: maintenance-window`` with a schedule, retention,
    volume and kubectl image, or keep ``none`` and the reason current.
    """
    if not ctx.profile.on_kubernetes:
        return
    for name, spec in ctx.profile.services.items():
        backup = getattr(spec, "backup", None)
        if getattr(backup, "method", None) == "none":
            yield Problem(f"service {name} has no backup (method none), because: {getattr(backup, 'reason', None)}; "
                          "its RPO is unbounded: only a manual dump can restore it",
                          ctx.in_profile("services", name, "backup", "reason"),
                          hint=f"services.{name}.backup.method: maintenance-window")
