"""VR408: annotation templates use only labels the alert's expression produces."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ._promql import result_labels
from .base import Problem, Severity, check
from .context import CheckContext
from .examples import Edit, Expect, Fail, Pass

_LABEL = re.compile(r"\$labels\.([A-Za-z_][A-Za-z0-9_]*)")
RULES = "prometheus/rules.yml"


def _lost(alert: str, label: str) -> Expect:
    return Expect(RULES, f"alert {alert} annotation description uses $labels.{label}, but the result carries only ['namespace']")


EXAMPLES = (
    Fail(
        "the container alerts aggregated by namespace only, while their descriptions name the pod and container",
        edits=[Edit(RULES, "(namespace, pod, container)", "(namespace)")],
        expect=[_lost(alert, label) for alert in ("ContainerHighCPU", "ContainerHighMemory") for label in ("container", "pod")],
    ),
    Pass(
        "a one-to-one division with ignoring() keeps the labels it does not ignore",
        edits=[Edit(RULES, "/ on (namespace, pod, container)", "/ ignoring (resource, unit)")],
    ),
)


@check("VR408", "alert-annotation-labels", "annotation uses a label the alert's result cannot carry", Severity.ERROR,
       examples=EXAMPLES)
def annotation_labels(ctx: CheckContext) -> Iterable[Problem]:
    """An annotation's ``{{ $labels.x }}`` must name a label the expression's result
    can carry. Aggregations keep only their ``by`` labels and one-to-one matching
    keeps only its ``on`` labels, so ``sum by (namespace) (...)`` has no ``pod``; the
    annotation would render an empty string in the page that wakes someone up.

    Remediation: keep the label in the aggregation, or drop it from the text.
    """
    for expression in ctx.promql:
        rule = expression.rule
        if expression.source != "alert" or rule is None:
            continue
        tree = expression.tree
        if isinstance(tree, Exception):
            continue
        available = result_labels(tree)
        if available is None:
            continue
        for key, text in (rule.get("annotations") or {}).items():
            for label in sorted(set(_LABEL.findall(str(text))) - available):
                yield Problem(f"alert {rule.get('alert')} annotation {key} uses $labels.{label}, but the result carries only "
                              f"{sorted(available) or 'no labels'}", expression.location)
