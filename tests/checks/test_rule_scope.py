"""VR904 runs each rule unit-test scenario against only the rules that can see or shape
its data. These tests prove the scoped run gives promtool's own verdict on the whole
files: on every committed rule file, and on broken rule files of each kind the scope
could hide (an alert that no longer fires, a recording rule an alert reads, a rule that
fails to evaluate on a scenario that asserts nothing about it)."""

from __future__ import annotations

import copy
import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from vitalyst_render.checks._rule_scope import Unprovable, _rules, rules_file_of, scoped_files
from vitalyst_render.checks._tools import ToolRun, run_tool
from vitalyst_render.checks.promtool import failures_reported
from vitalyst_render.yamlsource import load_yaml

from ..conftest import OUT, require_tool
from .support import mutated, problems

FOLDERS = sorted({path.parent for path in OUT.glob("*/prometheus/**/rules.test.yml")})


def load(path: Path) -> Any:
    return load_yaml(path.read_text(encoding="utf-8"), str(path))[0]


def whole(rules: Any, tests: Any) -> ToolRun:
    return run_tool("promtool", ["test", "rules", "rules.test.yml"], {"rules.yml": json.dumps(rules), "rules.test.yml": json.dumps(tests)})


def scoped(rules: Any, tests: Any) -> ToolRun:
    files, names = scoped_files(rules, tests)
    return run_tool("promtool", ["test", "rules", *names], files)


#: promtool names two of the clashing series, whichever its map yields first, run to run.
_CLASHING_PAIR = re.compile(r"(found duplicate series for the match group .*? of the operation: )\[.*?\];")


def verdict(run: ToolRun) -> tuple[int, list[str]]:
    """Exit status and what failed, as a multiset of lines: the scoped run reports the
    same failures, grouped by scope instead of by scenario order."""
    lines = (_CLASHING_PAIR.sub(r"\1[...];", line) for line in failures_reported(run) if line.strip() != "FAILED:")
    return run.returncode, sorted(lines)


def rules_of(rules: Any) -> list[dict[str, Any]]:
    return [rule for group in rules["groups"] for rule in group["rules"]]


def raised_threshold(rules: Any) -> Any:
    """The first alert with a `> 0.x` threshold now needs a thousand times more."""
    broken = copy.deepcopy(rules)
    rule = next(r for r in rules_of(broken) if "alert" in r and "> 0." in r["expr"])
    rule["expr"] = rule["expr"].replace("> 0.", "> 1000 * 0.")
    return broken


def renamed_record(rules: Any) -> Any:
    """A recording rule that an alert reads records under another name."""
    broken = copy.deepcopy(rules)
    records = {r["record"] for r in rules_of(broken) if "record" in r}
    rule = next(r for r in rules_of(broken) if "record" in r and any(r["record"] in a["expr"] for a in rules_of(broken) if "alert" in a))
    rule["record"] += "_renamed"
    assert records, "this profile records nothing"
    return broken


def failing_bystander(rules: Any) -> Any:
    """A new rule no scenario asserts, which fails to evaluate wherever two `up` series
    exist (a one-to-one join on no labels): promtool fails those scenarios."""
    broken = copy.deepcopy(rules)
    broken["groups"][0]["rules"].append({"record": "vr:bystander", "expr": "up / on () up"})
    return broken


def test_every_committed_rule_file_is_scoped_and_keeps_every_scenario_once():
    assert FOLDERS, "no rule unit tests under out/"
    for folder in FOLDERS:
        rules, tests = load(folder / "rules.yml"), load(folder / "rules.test.yml")
        files, names = scoped_files(rules, tests)
        scenarios = [s for name in names for s in json.loads(files[name])["tests"]]
        assert sorted(map(json.dumps, scenarios)) == sorted(map(json.dumps, tests["tests"])), folder
        total = len(rules_of(rules))
        kept = [len(rules_of(json.loads(files[rules_file_of(name)]))) for name in names]
        assert max(kept) < total, f"{folder}: some scenario should need fewer than all {total} rules"


CASES = [
    (folder, mutation)
    for folder in FOLDERS
    for mutation in ((raised_threshold, renamed_record, failing_bystander) if folder == OUT / "prod" / "prometheus" else (raised_threshold,))
]


@pytest.mark.parametrize(("folder", "mutation"), CASES, ids=[f"{f.relative_to(OUT)}-{m.__name__}" for f, m in CASES])
def test_scoped_run_gives_the_verdict_of_the_whole_run(folder, mutation):
    require_tool("promtool")
    rules, tests = mutation(load(folder / "rules.yml")), load(folder / "rules.test.yml")
    with ThreadPoolExecutor(max_workers=2) as pool:
        full, part = pool.map(lambda run: run(rules, tests), (whole, scoped))
    assert full.returncode == 1, f"the mutation should break a scenario: {full.output[-500:]}"
    assert verdict(part) == verdict(full)


def test_scoped_run_passes_where_the_whole_run_passes():
    require_tool("promtool")
    folder = OUT / "prod" / "prometheus"
    run = scoped(load(folder / "rules.yml"), load(folder / "rules.test.yml"))
    assert run.returncode == 0, run.output


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda r, t: r["groups"][0]["rules"].append({"record": "vr:any", "expr": 'sum({job="backend"})'}), "without a metric name"),
        (lambda r, t: r["groups"][0]["rules"][0].setdefault("annotations", {}).update(
            {"value": '{{ with query "up" }}{{ . | first | value }}{{ end }}'}), "queries the database"),
        (lambda r, t: r["groups"][0]["rules"].append({"record": "vr:broken", "expr": "sum(("}), "does not parse"),
        (lambda r, t: t.update({"rule_files": ["other.yml"]}), "not the rule and test files we render"),
    ],
    ids=["nameless-selector", "query-template", "unparsable", "other-rule-files"],
)
def test_what_cannot_be_scoped_is_refused_so_the_files_run_whole(change, why):
    folder = OUT / "prod" / "prometheus"
    rules, tests = load(folder / "rules.yml"), load(folder / "rules.test.yml")
    change(rules, tests)
    with pytest.raises(Unprovable, match=why):
        scoped_files(rules, tests)


def test_a_rule_file_that_cannot_be_scoped_still_gets_promtools_verdict():
    """VR904 falls back to the whole files: here a broken alert with a nameless selector."""
    require_tool("promtool")

    def break_alert(rules: Any) -> None:
        rule = next(r for r in rules_of(rules) if "alert" in r and "> 0." in r["expr"])
        rule["expr"] = rule["expr"].replace("> 0.", "> 1000 * 0.") + ' or sum({job="nothing"}) > 1'
        broken.append(rule["alert"])

    broken: list[str] = []
    ctx = mutated("prod", "prometheus/rules.yml", break_alert)
    with pytest.raises(Unprovable):
        scoped_files(ctx.artefacts["prometheus/rules.yml"].data, ctx.artefacts["prometheus/rules.test.yml"].data)
    (problem,) = problems("VR904", ctx)
    assert problem.message.startswith("rule unit tests failed:\n  FAILED:\n    alertname: " + broken[0]), problem.message


@pytest.mark.parametrize(
    ("expr", "can_fail"),
    [
        ('up{job="a"} == 0', False),
        ('absent(up{job="a"}) or absent(up{job="b"})', False),
        ('absent(up{job="a"}) or absent(up{job="b"}) or absent(up{job="c"})', False),  # a chain of or, parsed as one
        ('absent(up{job="a"}) or absent(up{job="b"}) or absent(up{job="c"}) or a / on () b', True),
        ("sum by (job) (rate(http_requests_total[5m])) > 1", False),
        ("(a or b) > 1", False),  # a filter keeps each series' name
        ("time() - max(b) > 3600", False),
        ("a / on (job) b", True),  # vector matching: many-to-many fails
        ("a > b", True),
        ("(a or b) > bool 1", True),  # drops the names: a{x="1"} and b{x="1"} collide
        ("-(a or b)", True),
        ("rate((a or b)[5m:1m])", True),
        ('label_replace(a, "x", "1", "", "")', True),
        ("topk(3, a)", True),
        ("histogram_quantile(0.99, rate(b_bucket[5m]))", True),  # not known to be safe: kept
    ],
)
def test_what_cannot_fail_to_evaluate(expr, can_fail):
    rules = {"groups": [{"name": "g", "rules": [{"record": "r", "expr": expr}]}]}
    (rule,) = _rules(rules)
    assert rule.can_fail is can_fail


def test_a_bystander_that_sees_the_data_but_cannot_fail_is_left_out():
    folder = OUT / "prod" / "prometheus"
    rules, tests = load(folder / "rules.yml"), load(folder / "rules.test.yml")
    files, names = scoped_files(rules, tests)
    for name in names:
        scenarios = json.loads(files[name])["tests"]
        asserted = {a["alertname"] for s in scenarios for a in s["alert_rule_test"]}
        if asserted == {"RedisDown"}:
            assert any(i["series"].startswith("up{") for s in scenarios for i in s["input_series"])
            kept = {r.get("alert") for r in rules_of(json.loads(files[rules_file_of(name)]))}
            assert kept == {"RedisDown"}, "TargetDown sees up{job=redis} but cannot fail"
            return
    pytest.fail("no scope asserts RedisDown alone")
