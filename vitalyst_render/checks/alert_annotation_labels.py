"""VR408: annotation templates use only labels the alert's expression produces."""

from __future__ import annotations

import re
from typing import Iterable

from ._promql import result_labels
from .base import Problem, Severity, check

_LABEL = re.compile(r"\$labels\.([A-Za-z_][A-Za-z0-9_]*)")


@check("VR408", "alert-annotation-labels", "annotation uses a label the alert's result cannot carry", Severity.ERROR)
def annotation_labels(ctx) -> Iterable[Problem]:
    """An annotation's ``{{ $labels.x }}`` must name a label the expression's result
    can carry. Aggregations keep only their ``by`` labels and one-to-one matching
    keeps only its ``on`` labels, so ``sum by (namespace) (...)`` has no ``pod``; the
    annotation would render an empty string in the page that wakes someone up.

    Remediation: keep the label in the aggregation, or drop it from the text.

    FAIL: ``expr: sum by (namespace) (rate(x_total[5m])) > 1`` with ``{{ $labels.pod }}``.
    PASS: ``sum by (namespace, pod) (...)`` with ``{{ $labels.pod }}``.
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
