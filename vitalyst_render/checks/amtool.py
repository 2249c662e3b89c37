"""VR906: amtool checks the Alertmanager configuration."""

from __future__ import annotations

from collections.abc import Iterable

from ._tools import line_of
from .base import Problem, Severity, check
from .context import CheckContext
from .examples import Edit, Expect, Fail, Pass

CONFIG = "prometheus/alertmanager.yml"

EXAMPLES = (
    Fail(
        "the top-level route names a receiver that does not exist",
        edits=[Edit(CONFIG, "route:\n  receiver: oncall\n", "route:\n  receiver: nobody\n")],
        expect=[
            Expect(CONFIG, "Checking 'alertmanager.yml'  FAILED: undefined receiver \"nobody\" used in route"),
            Expect(CONFIG, "amtool: error: failed to validate 1 file(s)"),
        ],
    ),
    Pass(
        "a second Slack receiver for info alerts: one more route and receiver",
        overlay="""monitoring:
  receivers:
    - {name: oncall, kind: slack, url_secret: alertmanager-slack-url, severities: [critical, warning]}
    - {name: tickets, kind: slack, url_secret: alertmanager-tickets-url, severities: [info]}
secrets:
  alertmanager-tickets-url:
    description: Slack incoming-webhook URL of the ticket channel.
""",
    ),
)


@check("VR906", "amtool-check-config", "amtool rejects the Alertmanager configuration", Severity.ERROR, tool="amtool",
       examples=EXAMPLES)
def amtool_check(ctx: CheckContext) -> Iterable[Problem]:
    """``amtool check-config`` parses ``alertmanager.yml``: routes, matchers, receivers,
    inhibition rules and the secret-file fields.

    Remediation: fix ``templates/prometheus/alertmanager.yml.j2`` or the receivers in
    the profile.
    """
    artefact = ctx.artefact(CONFIG)
    if artefact is None:
        return
    run = ctx.run_tool("amtool", ["check-config", "alertmanager.yml"], {"alertmanager.yml": artefact.text})
    if run.returncode != 0:
        # The failure lines, and the indented lines that detail them (``line 59: field
        # url_file not found``), which say where.
        lines: list[str] = []
        kept = False
        for line in run.lines():
            kept = "FAILED" in line or "error" in line.lower() or (kept and line[:1].isspace())
            if kept:
                lines.append(line)
        for line in lines or run.lines():
            yield Problem(line.strip(), ctx.location(CONFIG, line_of(line)))
