"""Meta-tests that keep the check registry honest, and the generated docs fresh.

Every check declares its PASS and FAIL examples as data (a profile overlay and/or an
edit of a rendered file, and the exact findings); one test runs them all, and
docs/checks.md shows them.
"""

from __future__ import annotations

import re

import pytest

from vitalyst_render import docs
from vitalyst_render.checks import Severity, registry
from vitalyst_render.checks.base import BUILT_IN
from vitalyst_render.checks.examples import Edit, Example, ExampleError, Expect, Fail, assert_example, run_example

from .conftest import REPO, require_tool

CHECKS = {check_id: check for check_id, check in registry().items() if check.origin == BUILT_IN}
AREAS = {"0": "core", "1": "docker", "2": "compose", "3": "kubernetes", "4": "prometheus", "5": "redis", "6": "cross", "9": "adapter"}
EXAMPLES = [(check_id, index) for check_id, check in CHECKS.items() for index in range(len(check.examples))]


def test_every_check_module_registers_something():
    assert CHECKS, "no checks registered"


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_check_is_complete(check_id):
    check = CHECKS[check_id]
    assert re.fullmatch(r"VR\d{3}", check.id)
    assert check.id[2] in AREAS
    assert re.fullmatch(r"[a-z0-9-]+", check.name)
    assert check.title and check.title == check.title.strip() and "\n" not in check.title
    assert isinstance(check.severity, Severity)
    assert "Remediation:" in check.doc
    assert check.fail_examples, f"{check_id} has no FAIL example"
    assert check.pass_examples, f"{check_id} has no PASS example"
    for example in check.fail_examples:
        assert example.expect, f"{check_id}: a FAIL example must name its findings"
    assert len({e.summary for e in check.examples}) == len(check.examples), "example summaries must differ"


@pytest.mark.parametrize(("check_id", "index"), EXAMPLES, ids=[f"{c}-{i}" for c, i in EXAMPLES])
def test_example(check_id, index):
    check = CHECKS[check_id]
    if check.tool is not None and check.tool not in ("kubernetes-validate", "hadolint"):
        require_tool(check.tool)
    assert_example(check, check.examples[index])


def test_an_example_that_does_not_hold_fails_loudly():
    check = CHECKS["VR312"]
    wrong = Fail("a finding that never comes", profile="staging", expect=[Expect("kubernetes/backend.yaml", "no such finding")])
    with pytest.raises(ExampleError, match="no such finding"):
        assert_example(check, wrong)
    stale = Example("pass", "an edit whose text is gone", edits=(Edit("kubernetes/backend.yaml", "not in the file", "x"),))
    with pytest.raises(ExampleError, match="is not in kubernetes/backend.yaml"):
        run_example(check, stale)


def test_names_are_unique():
    names = [c.name for c in CHECKS.values()]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("name", sorted(docs.GENERATED))
def test_generated_docs_are_fresh(name):
    committed = (REPO / "docs" / name).read_text(encoding="utf-8")
    assert committed == docs.GENERATED[name](), f"docs/{name} is stale: run make docs"
