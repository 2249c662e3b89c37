"""Each rule unit-test scenario, with only the rules that can see or shape its data.

``promtool test rules`` evaluates every rule of the rule files at every step of every
test group, so its cost grows with rules × scenarios: quadratic in services. The verdict
of a scenario depends only on

* the alerts it asserts, and every rule whose output those alerts read (transitively:
  a recording rule feeding an alert, ``ALERTS`` read by another alert);
* every rule that sees any of the scenario's series, since promtool reports a rule that
  fails to evaluate (a many-to-many join, a duplicate label set) on that data as a
  failure of the scenario, and that rule's output may feed further rules.

A rule whose selectors match none of the scenario's series, nor anything a rule that
sees data records, evaluates on an empty database: it cannot fail, and what it may
output (an ``absent()`` series) nobody kept reads. A rule that does see data but whose
expression cannot fail to evaluate on any data (selectors, aggregations, functions of
one metric, comparisons and arithmetic with a scalar, ``and``/``or``/``unless``: no
vector matching that can be many-to-many, nothing that can make two series alike) is
left out too, unless a kept rule reads what it records. So each scenario runs with the
kept rules only, in their groups and order, and scenarios that keep the same rules
share one test file.
Whenever the scope cannot be proven (a selector without a metric name, a template that
queries, an expression or series that does not parse, a rule file we did not write) the
caller runs promtool on the files as rendered instead.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import promql_parser as pql

from ._promql import Union, is_scalar, parse, walk

RULE_FILE = "rules.yml"
#: Series an alerting rule writes, which another rule may read.
ALERT_OUTPUTS = ("ALERTS", "ALERTS_FOR_STATE")
#: Regular expressions that mean the same to Go's RE2 and to Python (no classes, no escapes).
_PORTABLE_REGEX = re.compile(r"[^\[\\]*")


class Unprovable(Exception):
    """The scope of some scenario cannot be proven: run the files as rendered."""


@dataclass(frozen=True)
class Selector:
    name: str
    matchers: tuple[tuple[str, str, str], ...]  # (label, op, value), op one of = != =~ !~

    def may_match(self, labels: dict[str, str]) -> bool:
        return all(_matches(op, value, labels.get(label, "")) for label, op, value in self.matchers)

    def index_key(self) -> tuple[str, str, str] | tuple[str]:
        for label, op, value in self.matchers:
            if op == "=" and value:
                return (self.name, label, value)
        return (self.name,)


def _matches(op: str, value: str, actual: str) -> bool:
    if op == "=":
        return actual == value
    if op == "!=":
        return actual != value
    if not _PORTABLE_REGEX.fullmatch(value):
        return True  # a regex the two engines may read differently: assume it matches
    try:
        hit = re.fullmatch(value, actual) is not None
    except re.error:
        return True
    return hit if op == "=~" else not hit


_OPS = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}


def selectors(text: str) -> list[Selector]:
    """The metric selectors of one expression (or one series)."""
    tree = parse(text)
    if isinstance(tree, ValueError):
        raise Unprovable(f"does not parse: {text[:80]}")
    found: list[Selector] = []
    for node, _ in walk(tree):
        if not isinstance(node, pql.VectorSelector):
            continue
        if node.matchers.or_matchers:
            raise Unprovable("a selector with `or` matchers")
        matchers = tuple((m.name, _OPS[str(m.op)], m.value) for m in node.matchers.matchers)
        name = node.name or next((v for label, op, v in matchers if label == "__name__" and op == "="), None)
        if name is None:
            raise Unprovable(f"a selector without a metric name: {text[:80]}")
        found.append(Selector(name, tuple(m for m in matchers if m[0] != "__name__")))
    return found


#: Aggregations that never fail: they only group and reduce.
_PLAIN_AGGREGATIONS = {"sum", "min", "max", "avg", "count", "group", "stddev", "stdvar"}
#: Functions that never fail on their arguments' series, but drop the metric name, so
#: two series of different metrics with the same labels would collide.
_PLAIN_FUNCTIONS = {
    "absent", "absent_over_time", "present_over_time", "rate", "irate", "increase", "delta", "idelta", "deriv", "changes",
    "resets", "avg_over_time", "min_over_time", "max_over_time", "sum_over_time", "count_over_time", "last_over_time",
    "stddev_over_time", "stdvar_over_time", "abs", "ceil", "floor", "round", "clamp", "clamp_min", "clamp_max", "exp", "ln",
    "log2", "log10", "sqrt", "timestamp", "time", "vector", "scalar", "pi",
}
_SET_OPERATORS = {"and", "or", "unless"}


def _cannot_fail(node: Any) -> bool:
    return _plain(node) is not None


def _plain(node: Any) -> bool | None:
    """None when evaluating ``node`` may fail on some data; else whether its result may
    hold series of several metric names (which a name-dropping step could make alike)."""
    if isinstance(node, (pql.VectorSelector, pql.MatrixSelector)):
        return False  # selectors() refuses nameless ones: one metric name
    if isinstance(node, (pql.NumberLiteral, pql.StringLiteral)):
        return False
    if isinstance(node, (pql.ParenExpr, pql.SubqueryExpr)):
        return _plain(node.expr)
    if isinstance(node, Union):  # a chain of `or`: plain when every operand is
        return True if all(_plain(operand) is not None for operand in node.operands) else None
    if isinstance(node, pql.UnaryExpr):
        return _dropping_name(_plain(node.expr))
    if isinstance(node, pql.AggregateExpr):
        return False if str(node.op).strip() in _PLAIN_AGGREGATIONS and node.param is None and _plain(node.expr) is not None else None
    if isinstance(node, pql.Call):
        if node.func.name not in _PLAIN_FUNCTIONS:
            return None
        arguments = [_plain(argument) for argument in node.args]
        return None if any(a is None or a for a in arguments) else False
    if isinstance(node, pql.BinaryExpr):
        left, right = _plain(node.lhs), _plain(node.rhs)
        if left is None or right is None:
            return None
        op = str(node.op).strip()
        if op in _SET_OPERATORS:
            return True
        if not (is_scalar(node.lhs) or is_scalar(node.rhs)):
            return None  # vector matching: many-to-many and duplicate series fail
        vector_side = right if is_scalar(node.lhs) else left
        return vector_side if _keeps_name(node, op) else _dropping_name(vector_side)
    return None


def _spontaneous(tree: Any) -> bool:
    """Whether the expression may have a result on an empty database."""
    return is_scalar(tree) or any(isinstance(node, pql.Call) and node.func.name in ("absent", "absent_over_time", "vector")
                                  for node, _ in walk(tree))


def _keeps_name(node: Any, op: str) -> bool:
    """A filtering comparison (without ``bool``) keeps the metric name; the rest drop it."""
    return op in ("==", "!=", ">", "<", ">=", "<=") and not (node.modifier is not None and node.modifier.return_bool)


def _dropping_name(several_names: bool | None) -> bool | None:
    return None if several_names is None or several_names else False


@dataclass(frozen=True)
class Rule:
    group: int
    index: int
    outputs: tuple[str, ...]
    reads: tuple[Selector, ...]
    alert: str | None
    can_fail: bool  # whether evaluating it on some data may be an error
    spontaneous: bool  # whether it may write series when it reads none (absent(), vector(), a number)
    labels: frozenset[str]  # the labels it sets on what it writes


def _rules(document: dict[str, Any]) -> list[Rule]:
    found: list[Rule] = []
    for g, group in enumerate(document.get("groups") or []):
        for r, rule in enumerate(group.get("rules") or []):
            templates = json.dumps([rule.get("labels"), rule.get("annotations")])
            if "query" in templates:
                raise Unprovable("a template that queries the database")
            alert = rule.get("alert")
            outputs = ALERT_OUTPUTS if alert is not None else (str(rule["record"]),)
            expr = str(rule["expr"])
            tree = parse(expr)
            found.append(Rule(g, r, outputs, tuple(selectors(expr)), alert, not _cannot_fail(tree), _spontaneous(tree),
                              frozenset(rule.get("labels") or {})))
    return found


def _series(test: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    present = []
    for item in test.get("input_series") or []:
        found = selectors(str(item["series"]))
        selector = found[0] if len(found) == 1 else None
        if selector is None or any(op != "=" for _, op, _ in selector.matchers):
            raise Unprovable(f"an input series that is not a plain series: {item['series']}")
        present.append((selector.name, {label: value for label, _, value in selector.matchers}))
    return present


class _Scope:
    """The rules, indexed once: by what they record, and by what their selectors name."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = rules
        self.producers: dict[str, list[int]] = defaultdict(list)
        self.readers_of_name: dict[str, list[int]] = defaultdict(list)
        self.by_key: dict[tuple[str, ...], list[tuple[int, Selector]]] = defaultdict(list)
        self.alerts: dict[str, list[int]] = defaultdict(list)
        self.spontaneous: list[int] = []  # rules that may write series on an empty database
        self._upstream: dict[int, frozenset[int]] = {}
        for i, rule in enumerate(rules):
            if rule.alert is not None:
                self.alerts[rule.alert].append(i)
            for output in rule.outputs:
                self.producers[output].append(i)
            if rule.spontaneous:
                self.spontaneous.append(i)
            for selector in rule.reads:
                self.readers_of_name[selector.name].append(i)
                self.by_key[selector.index_key()].append((i, selector))
        # The static labels each rule's input may carry from the rules that write it.
        self.inherited: list[frozenset[str]] = [frozenset().union(*(rules[p].labels for p in self.upstream(i))) for i in range(len(rules))]

    def upstream(self, start: int) -> frozenset[int]:
        """Every rule that writes what ``start`` reads, transitively."""
        if start in self._upstream:
            return self._upstream[start]
        found: set[int] = set()
        pending = [start]
        while pending:
            for selector in self.rules[pending.pop()].reads:
                for producer in self.producers.get(selector.name, ()):
                    if producer not in found:
                        found.add(producer)
                        pending.append(producer)
        found.discard(start)
        self._upstream[start] = frozenset(found)
        return self._upstream[start]

    def seeing(self, name: str, labels: dict[str, str]) -> Iterable[int]:
        """Rules with a selector that may match the series ``name{labels}``."""
        keys: list[tuple[str, ...]] = [(name,), *((name, label, value) for label, value in labels.items())]
        for key in keys:
            for i, selector in self.by_key.get(key, ()):
                if selector.may_match(labels):
                    yield i

    def kept(self, test: dict[str, Any]) -> frozenset[int]:
        series = _series(test)
        label_names = {label for _, labels in series for label in labels}
        roots = {i for assertion in test.get("alert_rule_test") or [] for i in self.alerts.get(str(assertion.get("alertname")), ())}
        expression_reads = [s.name for expr_test in test.get("promql_expr_test") or [] for s in selectors(str(expr_test["expr"]))]
        # Active: the rules that may see data in this scenario, or write some.
        active = {*self.spontaneous, *roots, *(i for name, labels in series for i in self.seeing(name, labels))}
        active |= {p for name in expression_reads for p in self.producers.get(name, ())}
        records = [output for i in active for output in self.rules[i].outputs]
        while records:
            for i in self.readers_of_name.get(records.pop(), ()):
                if i not in active:
                    active.add(i)
                    records.extend(self.rules[i].outputs)
        # Kept: the asserted alerts, the active rules that may fail, and what they read.
        kept = roots | {i for i in active if self.rules[i].can_fail or self.rules[i].labels & (label_names | self.inherited[i])}
        kept |= {p for name in expression_reads for p in self.producers.get(name, ())}
        for i in list(kept):
            kept |= self.upstream(i)
        return frozenset(kept)


def scoped_files(rules: Any, tests: Any) -> tuple[dict[str, str], list[str]]:
    """The files for one ``promtool test rules`` run equivalent to running ``tests``
    against ``rules``, and the test files to name on its command line.

    Raises :class:`Unprovable` when the equivalence cannot be shown.
    """
    if not isinstance(rules, dict) or not isinstance(tests, dict) or tests.get("rule_files") != [RULE_FILE]:
        raise Unprovable("not the rule and test files we render")
    try:
        parsed = _rules(rules)
        scope = _Scope(parsed)
        shards: dict[frozenset[int], list[Any]] = {}
        for test in tests.get("tests") or []:
            shards.setdefault(scope.kept(test), []).append(test)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise Unprovable(f"unexpected shape: {exc}") from None
    files: dict[str, str] = {}
    names: list[str] = []
    settings = {key: value for key, value in tests.items() if key not in ("rule_files", "tests", "group_eval_order")}
    for number, (kept, scenarios) in enumerate(shards.items()):
        groups = _kept_groups(rules, parsed, kept)
        test_file = f"scope-{number}.test.yml"
        rule_file = rules_file_of(test_file)
        order = [name for name in tests.get("group_eval_order") or [] if name in {g.get("name") for g in groups}]
        files[rule_file] = json.dumps({**rules, "groups": groups})
        files[test_file] = json.dumps({"rule_files": [rule_file], **settings, **({"group_eval_order": order} if order else {}),
                                       "tests": scenarios})
        names.append(test_file)
    return files, names


def rules_file_of(test_file: str) -> str:
    """The rule file a scoped test file loads."""
    return test_file.replace(".test.yml", ".rules.yml")


def _kept_groups(document: dict[str, Any], parsed: Sequence[Rule], kept: frozenset[int]) -> list[dict[str, Any]]:
    by_group: dict[int, list[int]] = defaultdict(list)
    for i in sorted(kept):
        by_group[parsed[i].group].append(parsed[i].index)
    groups = document.get("groups") or []
    return [{**groups[g], "rules": [groups[g]["rules"][r] for r in indexes]} for g, indexes in sorted(by_group.items())]
