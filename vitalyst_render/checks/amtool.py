"""VR906: amtool checks the Alertmanager configuration."""

from __future__ import annotations

from typing import Iterable

from ._tools import line_of, run_tool
from .base import Problem, Severity, check

CONFIG = "prometheus/alertmanager.yml"


@check("VR906", "amtool-check-config", "amtool rejects the Alertmanager configuration", Severity.ERROR, tool="amtool")
def amtool_check(ctx) -> Iterable[Problem]:
    """``amtool check-config`` parses ``alertmanager.yml``: routes, matchers, receivers,
    inhibition rules and the secret-file fields.

    Remediation: fix ``templates/prometheus/alertmanager.yml.j2`` or the receivers in
    the profile.

    FAIL: a route naming a receiver that does not exist.
    PASS: the rendered ``prometheus/alertmanager.yml`` of every profile.
    """
    artefact = ctx.artefact(CONFIG)
    if artefact is None:
        return
    run = run_tool("amtool", ["check-config", "alertmanager.yml"], {"alertmanager.yml": artefact.text})
    if run.returncode != 0:
        lines = [line for line in run.lines() if "FAILED" in line or "error" in line.lower()] or run.lines()
        for line in lines:
            yield Problem(line.strip(), ctx.location(CONFIG, line_of(line)))
