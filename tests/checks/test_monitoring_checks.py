"""VR401–VR408 (our PromQL lint) and VR903–VR906 (promtool and amtool): what their
examples cannot say (locations, related locations, severities, label-keeping functions,
the tools' output), plus the seed's three broken alerts, each of which the lint must catch."""

from __future__ import annotations

import json

import pytest

from ..conftest import require_tool
from .support import context, dump_yaml, problems, rendered

RULES = "prometheus/rules.yml"
LINT = ["VR401", "VR402", "VR403", "VR404", "VR405", "VR406", "VR407", "VR408"]

SEED_RULES = """groups:
  - name: container_alerts
    rules:
      - alert: ContainerHighCPU
        expr: container_cpu_usage_seconds_total > 0.8
        for: 5m
        labels: {severity: warning}
        annotations: {description: "Container {{ $labels.container }} CPU usage above 80%"}
      - alert: ContainerHighMemory
        expr: container_memory_usage_bytes > 0.85
        for: 5m
        labels: {severity: warning}
        annotations: {description: "Container {{ $labels.container }} memory usage above 85%"}
      - alert: ContainerRestarting
        expr: rate(container_restart_count[5m]) > 0
        for: 2m
        labels: {severity: warning}
        annotations: {description: "Container {{ $labels.container }} restarting frequently"}
"""


def alert(expr: str, drop: tuple[str, ...] = (), **extra) -> str:
    rule = {
        "alert": extra.pop("name", "Probe"),
        "expr": expr,
        "for": "5m",
        "labels": {"severity": "warning"},
        "annotations": {"summary": "s", "description": "d", "runbook_url": "https://x/Probe"},
    }
    rule.update(extra)
    for key in drop:
        del rule[key]
    return dump_yaml({"groups": [{"name": "g", "rules": [rule]}]})


def lint(check_id: str, rules_text: str, profile: str = "staging"):
    """Findings about the rule file only (dashboards keep using the real rules)."""
    found = problems(check_id, context(profile, {RULES: rules_text}))
    return [p.message for p in found if p.location.file.endswith(RULES)]


@pytest.mark.parametrize("check_id", LINT)
@pytest.mark.parametrize("profile", ["dev", "staging", "prod"])
def test_committed_rules_and_dashboards_pass(check_id, profile):
    assert problems(check_id, context(profile)) == []


def test_seed_rules_are_each_caught():
    assert any("container_cpu_usage_seconds_total is used without rate()" in m for m in lint("VR402", SEED_RULES))
    assert any("container_memory_usage_bytes (bytes) is compared with 0.85" in m for m in lint("VR403", SEED_RULES))
    assert any("container_restart_count is not exported" in m for m in lint("VR404", SEED_RULES))
    assert sum("has no runbook_url" in m for m in lint("VR406", SEED_RULES)) == 3


def test_vr401_fail_panel_points_at_its_line():
    dashboard = json.loads(rendered("staging").files["grafana/dashboards/overview.json"])
    dashboard["panels"][0]["targets"][0]["expr"] = "sum(rate(up[5m]"
    ctx = context("staging", {"grafana/dashboards/overview.json": json.dumps(dashboard, indent=2)})
    (problem,) = problems("VR401", ctx)
    assert "panel expression does not parse" in problem.message and problem.location.line > 0


def test_vr407_fail_duplicate_alert():
    rule = {"alert": "TargetDown", "expr": "up == 0", "for": "5m", "labels": {"severity": "critical"},
            "annotations": {"summary": "s", "description": "d", "runbook_url": "u"}}
    rules = dump_yaml({"groups": [{"name": "a", "rules": [rule]}, {"name": "b", "rules": [rule]}]})
    (problem,) = problems("VR407", context("staging", {RULES: rules}))
    assert problem.message == "alert TargetDown is defined twice" and problem.related


# -- the real tools -------------------------------------------------------------------------


@pytest.fixture
def promtool():
    return require_tool("promtool")


@pytest.mark.parametrize("profile", ["dev", "staging", "prod"])
def test_vr903_pass(promtool, profile):
    assert problems("VR903", context(profile)) == []


@pytest.mark.parametrize("profile", ["dev", "staging", "prod"])
def test_vr904_pass(promtool, profile):
    assert problems("VR904", context(profile)) == []


@pytest.mark.parametrize("profile", ["dev", "staging", "prod"])
def test_vr905_pass(promtool, profile):
    # Kubernetes profiles: one info finding that says the SD blocks were checked by us.
    assert [p.severity.value for p in problems("VR905", context(profile))] == ([] if profile == "dev" else ["info"])


def test_vr903_fail_points_at_the_expression(promtool):
    rules = alert("rate(up[5m]")
    (problem,) = problems("VR903", context("dev", {RULES: rules}))
    expr_line = next(i for i, line in enumerate(rules.splitlines(), 1) if "expr:" in line)
    assert problem.location.file == "out/dev/prometheus/rules.yml" and problem.location.line == expr_line


def test_vr905_kubernetes_sd_blocks_are_checked_by_us(promtool):
    config = json.loads(json.dumps(rendered("staging").artefacts["prometheus/prometheus.yml"].data))
    config["scrape_configs"][0]["kubernetes_sd_configs"][0]["role"] = "pods"
    found = problems("VR905", context("staging", {"prometheus/prometheus.yml": dump_yaml(config)}))
    assert any(p.severity is None and "role 'pods'" in p.message for p in found)  # None: the check's default, error


def test_vr906_detail_lines_say_where():
    require_tool("amtool")
    text = rendered("prod").files["prometheus/alertmanager.yml"].decode()
    text = text.replace("        send_resolved: true\n", "        send_resolved: true\n        bogus_field: 1\n")
    found = problems("VR906", context("prod", {"prometheus/alertmanager.yml": text}))
    (detail,) = [p for p in found if "bogus_field" in p.message]
    assert text.splitlines()[detail.location.line - 1].strip() == "bogus_field: 1"


@pytest.mark.parametrize(
    "expr",
    [
        "topk(3, sum by (pod) (rate(http_requests_total[5m]))) > 1",
        'label_replace(sum by (namespace) (rate(http_requests_total[5m])), "pod", "$1", "namespace", "(.*)") > 1',
    ],
)
def test_vr408_pass_label_keeping_functions(expr):
    assert lint("VR408", alert(expr, annotations={"summary": "s", "description": "{{ $labels.pod }}", "runbook_url": "u"})) == []


# -- long `or` chains, as the rules over every service of a large stack are ---------------


def _left_operands(tree):
    import promql_parser as pql

    operands = []
    while isinstance(tree, pql.BinaryExpr) and str(tree.op).strip() == "or":
        operands.append(tree.rhs)
        tree = tree.lhs
    return [tree, *reversed(operands)]


@pytest.mark.parametrize("text", [
    'absent(up{job="a"})\nor\nabsent(up{job="b"})\nor\nabsent(up{job="c"})',
    'sum by (job) (rate(x_total{l="a or b"}[5m])) > 1 or (y unless on (job) z) or vector(0) > bool 1 or w # or not\n',
    '(time() - last{cronjob="a"}) > 90000\nor ((time() - created{cronjob="a"}) > 90000\n  unless on (namespace, cronjob) last{cronjob="a"})',
])
def test_an_or_chain_is_parsed_operand_by_operand_into_the_trees_of_a_whole_parse(text):
    import promql_parser as pql

    from vitalyst_render.checks._promql import Union, parse

    tree = parse(text)
    assert isinstance(tree, Union)
    assert [str(o) for o in tree.operands] == [str(o) for o in _left_operands(pql.parse(text))]


@pytest.mark.parametrize("text", ["up or 1", "up[5m] or up", 'up or "a"', "up or down or sum(", "up or rate(up)"])
def test_a_bad_or_chain_fails_as_a_whole_parse_does(text):
    import promql_parser as pql

    from vitalyst_render.checks._promql import parse

    with pytest.raises(ValueError) as whole:
        pql.parse(text)
    assert isinstance(parse(text), ValueError) and str(parse(text)) == str(whole.value)


def test_or_with_matching_modifiers_is_parsed_whole():
    import promql_parser as pql

    from vitalyst_render.checks._promql import parse

    assert isinstance(parse("a or on (job) b or c"), pql.BinaryExpr)


def test_a_thousand_absent_terms_parse_into_their_operands_and_keep_their_labels():
    from vitalyst_render.checks._promql import Union, parse, result_labels

    text = "\nor\n".join(f'absent(up{{job="job-{i}"}})' for i in range(1500))
    tree = parse(text)
    assert isinstance(tree, Union) and len(tree.operands) == 1500
    assert result_labels(tree) is None  # a selector's labels are open, so are the chain's
    assert result_labels(parse("sum by (a, b) (x) or sum by (b, c) (y)")) == frozenset({"b"})
