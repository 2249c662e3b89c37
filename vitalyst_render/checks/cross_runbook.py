"""VR609: every alert links to its own section of this profile's rendered runbook."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .base import Problem, Severity, check
from .context import CheckContext
from .examples import Edit, Expect, Fail, Pass

RUNBOOK = "docs/RUNBOOK.md"
RULES = "prometheus/rules.yml"
_ANCHOR = re.compile(r'<a id="([^"]+)"></a>')
_URL = "https://git.vitalyst.example/vitalyst/deploy/blob/main/out/prod/docs/RUNBOOK.md"

EXAMPLES = (
    Fail(
        "the runbook lost the section of an alert",
        edits=[Edit(RUNBOOK, '<a id="alert-targetdown"></a>\n', "")],
        expect=[Expect(rules, "alert TargetDown links to #alert-targetdown, which docs/RUNBOOK.md does not have")
                for rules in (RULES, "prometheus/swarm/rules.yml")],
    ),
    Fail(
        "an alert that links to a runbook somewhere else",
        edits=[Edit(RULES, f'runbook_url: "{_URL}#alert-targetdown"', 'runbook_url: "https://wiki.example/TargetDown"')],
        expect=[Expect(RULES, f"alert TargetDown links to 'https://wiki.example/TargetDown', not to its section of this profile's runbook "
                              f"({_URL}#alert-targetdown)")],
    ),
    Pass("staging: its alerts link into its own runbook", profile="staging"),
    Pass("runbook_base_url of another repository host", overlay="monitoring:\n  runbook_base_url: https://github.com/acme/deploy/blob/main/out\n"),
)


@check("VR609", "cross-runbook-links", "an alert's runbook_url does not lead to its runbook section", Severity.ERROR,
       examples=EXAMPLES)
def runbook_links(ctx: CheckContext) -> Iterable[Problem]:
    """Each alert's ``runbook_url`` is this profile's ``docs/RUNBOOK.md`` (under
    ``monitoring.runbook_base_url``) with the alert's anchor, and the runbook has that
    anchor: the page on-call opens from a notification is the section written for
    that alert, with the stack's real names and commands.

    Remediation: alerts and the runbook come from one plan; an edited rule or runbook
    is the cause. Set ``monitoring.runbook_base_url`` to where ``out/`` is browsable.
    """
    runbook = ctx.artefacts.get(RUNBOOK)
    anchors = set(_ANCHOR.findall(runbook.text)) if runbook is not None else set()
    wanted = {alert.name: alert.runbook_url(m.runbook_base) for m in ctx.plan.monitorings for alert in m.alerts}
    for expression in ctx.promql:
        rule = expression.rule
        if expression.source != "alert" or rule is None:
            continue
        name = str(rule.get("alert"))
        url = str((rule.get("annotations") or {}).get("runbook_url", ""))
        if not url:
            continue  # VR406 says it is missing
        expected = wanted.get(name)
        if expected is not None and url != expected:
            yield Problem(f"alert {name} links to {url!r}, not to its section of this profile's runbook ({expected})", expression.location)
        elif runbook is not None and url.partition("#")[2] not in anchors:
            yield Problem(f"alert {name} links to #{url.partition('#')[2]}, which {RUNBOOK} does not have", expression.location,
                          related=(ctx.location(RUNBOOK),))
