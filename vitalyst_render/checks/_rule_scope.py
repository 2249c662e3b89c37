"""Each rule unit-test scenario, with only the rules that can see or shape its data.

``promtool test rules`` evaluates every rule of the rule files at every step of every
test group, so its cost grows with rules × scenarios: quadratic in services. The verdict
of a scenario depends only on

* the alerts it asserts, and every rule whose output those alerts read (transitively:
  a recording rule feeding an alert, ``ALERTS`` read by another alert);
* every rule that sees any of the scenario's series, since promtool reports a rule that
  fails to evaluate (a many-to-many join, a duplicate label set) on that data as a
  failure of the scenario, and that rule's output may feed further rules.

A rule whose selectors match none of the scenario's series, nor anything a kept rule
records, evaluates on an empty database: it cannot fail, and what it may output (an
``absent()`` series) nobody kept reads. So each scenario runs with the kept rules only,
in their groups and order, and scenarios that keep the same rules share one test file.
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

from ._promql import parse, walk

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


@dataclass(frozen=True)
class Rule:
    group: int
    index: int
    outputs: tuple[str, ...]
    reads: tuple[Selector, ...]
    alert: str | None


def _rules(document: dict[str, Any]) -> list[Rule]:
    found: list[Rule] = []
    for g, group in enumerate(document.get("groups") or []):
        for r, rule in enumerate(group.get("rules") or []):
            templates = json.dumps([rule.get("labels"), rule.get("annotations")])
            if "query" in templates:
                raise Unprovable("a template that queries the database")
            alert = rule.get("alert")
            outputs = ALERT_OUTPUTS if alert is not None else (str(rule["record"]),)
            found.append(Rule(g, r, outputs, tuple(selectors(str(rule["expr"]))), alert))
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
        self.always: list[int] = []  # rules with no selector at all: kept everywhere
        for i, rule in enumerate(rules):
            if rule.alert is not None:
                self.alerts[rule.alert].append(i)
            for output in rule.outputs:
                self.producers[output].append(i)
            if not rule.reads:
                self.always.append(i)
            for selector in rule.reads:
                self.readers_of_name[selector.name].append(i)
                self.by_key[selector.index_key()].append((i, selector))

    def seeing(self, name: str, labels: dict[str, str]) -> Iterable[int]:
        """Rules with a selector that may match the series ``name{labels}``."""
        keys: list[tuple[str, ...]] = [(name,), *((name, label, value) for label, value in labels.items())]
        for key in keys:
            for i, selector in self.by_key.get(key, ()):
                if selector.may_match(labels):
                    yield i

    def kept(self, test: dict[str, Any]) -> frozenset[int]:
        kept: set[int] = set(self.always)
        for name, labels in _series(test):
            kept.update(self.seeing(name, labels))
        for assertion in test.get("alert_rule_test") or []:
            kept.update(self.alerts.get(str(assertion.get("alertname")), ()))
        reads: list[str] = []  # names kept rules read: their producers are kept
        for expr_test in test.get("promql_expr_test") or []:
            reads.extend(s.name for s in selectors(str(expr_test["expr"])))
        records: list[str] = []  # names kept rules write: their readers see data
        for i in kept:
            reads.extend(s.name for s in self.rules[i].reads)
            records.extend(self.rules[i].outputs)
        seen_reads: set[str] = set()
        seen_records: set[str] = set()
        while reads or records:
            if reads:
                name = reads.pop()
                added = [] if name in seen_reads else self.producers.get(name, [])
                seen_reads.add(name)
            else:
                name = records.pop()
                added = [] if name in seen_records else self.readers_of_name.get(name, [])
                seen_records.add(name)
            for i in added:
                if i not in kept:
                    kept.add(i)
                    reads.extend(s.name for s in self.rules[i].reads)
                    records.extend(self.rules[i].outputs)
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
        rule_file, test_file = f"scope-{number}.rules.yml", f"scope-{number}.test.yml"
        order = [name for name in tests.get("group_eval_order") or [] if name in {g.get("name") for g in groups}]
        files[rule_file] = json.dumps({**rules, "groups": groups})
        files[test_file] = json.dumps({"rule_files": [rule_file], **settings, **({"group_eval_order": order} if order else {}),
                                       "tests": scenarios})
        names.append(test_file)
    return files, names


def _kept_groups(document: dict[str, Any], parsed: Sequence[Rule], kept: frozenset[int]) -> list[dict[str, Any]]:
    by_group: dict[int, list[int]] = defaultdict(list)
    for i in sorted(kept):
        by_group[parsed[i].group].append(parsed[i].index)
    groups = document.get("groups") or []
    return [{**groups[g], "rules": [groups[g]["rules"][r] for r in indexes]} for g, indexes in sorted(by_group.items())]
