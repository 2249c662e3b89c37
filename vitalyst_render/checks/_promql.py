"""PromQL as our lint sees it: an expression of the rules or dashboards with its parse
tree (the check context collects them once), walked with its ancestors, and the label
sets its results can carry."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterator

import promql_parser as pql

from ..errors import Location

if TYPE_CHECKING:
    from ..monitoring import MonitoringPlan

COUNTER_SUFFIXES = ("_total", "_count", "_sum", "_bucket")
RATE_FUNCTIONS = {"rate", "irate", "increase"}
# Functions that legitimately take a raw counter: they ask about resets or existence.
COUNTER_SAFE = RATE_FUNCTIONS | {"resets", "changes", "absent", "absent_over_time", "present_over_time", "timestamp"}
COMPARISONS = {"==", "!=", ">", "<", ">=", "<="}
#: Series every Prometheus has without an exporter declaring them.
BUILT_IN = {"up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds", "scrape_samples_scraped"}



@dataclass(frozen=True)
class Expression:
    text: str
    location: Location
    source: str  # "alert", "record" or "panel"
    rule: dict[str, Any] | None
    tree: Any  # the parse tree, or the ValueError promql-parser raised
    monitoring: MonitoringPlan | None = None  # the platform whose rules or dashboard hold it


@dataclass(frozen=True)
class Union:
    """``a or b or c ...``, a chain of plain ``or`` at the top of an expression, as its operands.

    promql-parser's memory grows with the square of a chain's length (a chain of a
    thousand takes hundreds of megabytes), and the rules that watch every service of a
    large stack are such chains (``absent(...) or absent(...) ...``). So a chain is
    parsed two operands at a time: each ``x or y`` proves both are instant vectors, which is all the
    chain needs to be valid, and yields the very subtrees a parse of the whole would."""

    operands: tuple[Any, ...]


@lru_cache(maxsize=1024)
def parse(text: str) -> Any:
    """The AST (a :class:`Union` for a chain of ``or``), or the ValueError promql-parser raised."""
    operands = union_operands(text)
    if operands is not None:
        trees: list[Any] = []
        for index in range(0, len(operands), 2):
            pair = operands[index:index + 2]
            try:
                tree = pql.parse(f"{pair[0]} or {pair[-1]}")
            except ValueError:
                break  # the whole expression's parse says why, as it would have
            if not (isinstance(tree, pql.BinaryExpr) and str(tree.op).strip() == "or"):
                break
            trees += [tree.lhs, tree.rhs][:len(pair)]
        else:
            return Union(tuple(trees))
    try:
        return pql.parse(text)
    except ValueError as exc:
        return exc


_WORD = re.compile(r"[A-Za-z0-9_:]")


def union_operands(text: str) -> list[str] | None:
    """The operands of a top-level chain of plain ``or`` (no ``on``/``ignoring``), outside
    brackets, strings and comments; None when the text is no such chain."""
    operands: list[str] = []
    depth, start, index, length = 0, 0, 0, len(text)
    while index < length:
        char = text[index]
        if char in "\"'`":
            index += 1
            while index < length and text[index] != char:
                index += 2 if text[index] == "\\" and char != "`" else 1
        elif char == "#":
            newline = text.find("\n", index)
            index = length if newline < 0 else newline
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif (depth == 0 and text.startswith("or", index) and not (index and _WORD.match(text[index - 1]))
              and not (index + 2 < length and _WORD.match(text[index + 2]))):
            if re.match(r"\s*(on|ignoring)\b", text[index + 2:]):
                return None
            operands.append(text[start:index])
            start = index + 2
            index += 1
        index += 1
    operands.append(text[start:])
    return operands if len(operands) > 1 and all(o.strip() for o in operands) else None


def children(node: Any) -> list[Any]:
    if isinstance(node, Union):
        return list(node.operands)
    if isinstance(node, pql.BinaryExpr):
        return [node.lhs, node.rhs]
    if isinstance(node, pql.AggregateExpr):
        return [node.expr] + ([node.param] if node.param is not None else [])
    if isinstance(node, pql.Call):
        return list(node.args)
    if isinstance(node, pql.MatrixSelector):
        return [node.vector_selector]
    if isinstance(node, (pql.ParenExpr, pql.UnaryExpr, pql.SubqueryExpr)):
        return [node.expr]
    return []


def walk(node: Any, ancestors: tuple[Any, ...] = ()) -> Iterator[tuple[Any, tuple[Any, ...]]]:
    """Every node with the tuple of its ancestors, outermost first."""
    yield node, ancestors
    for child in children(node):
        yield from walk(child, ancestors + (node,))


def is_comparison(node: Any) -> bool:
    return isinstance(node, pql.BinaryExpr) and str(node.op).strip() in COMPARISONS


# -- label sets ------------------------------------------------------------------------
# None means "not provable": an open set we never report against.

LabelSet = frozenset[str] | None


def result_labels(node: Any) -> LabelSet:
    if isinstance(node, (pql.NumberLiteral, pql.StringLiteral)):
        return frozenset()
    if isinstance(node, (pql.ParenExpr, pql.UnaryExpr)):
        return result_labels(node.expr)
    if isinstance(node, pql.AggregateExpr):
        modifier = node.modifier
        inner = result_labels(node.expr)
        if str(node.op).strip() in ("topk", "bottomk", "limitk", "limit_ratio"):
            return inner  # these select series; they keep every label
        if modifier is None:
            return frozenset()
        labels = frozenset(modifier.labels)
        if str(modifier.type).endswith("By"):
            return labels
        return inner - labels if inner is not None else None
    if isinstance(node, pql.Call):
        name = node.func.name
        if name in ("time", "vector", "scalar", "pi") or (name in SCALAR_FUNCTIONS and not node.args):
            return frozenset()
        vectors = [a for a in node.args if not isinstance(a, (pql.NumberLiteral, pql.StringLiteral))]
        if not vectors:
            return frozenset()
        if name in ("label_replace", "label_join"):
            inner = result_labels(node.args[0])
            target = node.args[1]
            added = {target.val} if isinstance(target, pql.StringLiteral) else set()
            return inner | added if inner is not None else None
        inner = result_labels(vectors[-1])
        if name == "histogram_quantile" and inner is not None:
            return inner - {"le"}
        return inner
    if isinstance(node, pql.MatrixSelector):
        return result_labels(node.vector_selector)
    if isinstance(node, pql.BinaryExpr):
        return _binary_labels(node)
    if isinstance(node, Union):
        # `or` keeps the labels every operand carries, as in _binary_labels.
        kept: LabelSet = None
        for operand in node.operands:
            carried = result_labels(operand)
            if carried is None:
                return None
            kept = carried if kept is None else kept & carried
        return kept
    return None  # selectors and subqueries: whatever the series carry


SCALAR_FUNCTIONS = {"time", "scalar", "pi", "day_of_month", "day_of_week", "hour", "minute", "month", "year"}


def is_scalar(node: Any) -> bool:
    if isinstance(node, pql.NumberLiteral):
        return True
    if isinstance(node, (pql.ParenExpr, pql.UnaryExpr)):
        return is_scalar(node.expr)
    if isinstance(node, pql.Call):
        return node.func.name in ("time", "scalar", "pi") or (node.func.name in SCALAR_FUNCTIONS and not node.args)
    if isinstance(node, pql.BinaryExpr):
        return is_scalar(node.lhs) and is_scalar(node.rhs)
    return False


def _binary_labels(node: Any) -> LabelSet:
    left, right = result_labels(node.lhs), result_labels(node.rhs)
    op = str(node.op).strip()
    if is_scalar(node.rhs):
        return left
    if is_scalar(node.lhs):
        return right
    if op in ("or",):
        return left & right if left is not None and right is not None else None
    if op in ("and", "unless"):
        return left
    # Vector to vector: one-to-one matching keeps only the on() labels, or drops the
    # ignoring() ones, whatever the operator; many-to-one keeps the "many" side's.
    modifier = node.modifier
    matching = modifier.matching if modifier is not None else None
    if matching is not None and str(getattr(modifier, "card", "")).endswith("OneToOne"):
        labels = frozenset(matching.labels)
        if str(matching.type).endswith("Include"):
            return labels
        return left - labels if left is not None else None
    if modifier is not None and str(getattr(modifier, "card", "")).endswith(("ManyToOne", "OneToMany")):
        many = left if str(modifier.card).endswith("ManyToOne") else right
        return many | frozenset(modifier.group_labels or ()) if many is not None else None
    return left
