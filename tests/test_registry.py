"""Meta-tests that keep the check registry honest, and the generated docs fresh."""

from __future__ import annotations

import ast
import re

import pytest

from vitalyst_render import docs
from vitalyst_render.checks import Severity, registry

from .conftest import REPO

CHECKS = registry()
AREAS = {"0": "core", "1": "docker", "2": "compose", "3": "kubernetes", "4": "prometheus", "5": "redis", "6": "cross", "9": "adapter"}


def test_every_check_module_registers_something():
    assert CHECKS, "no checks registered"


def _test_names() -> set[str]:
    names = set()
    for path in (REPO / "tests").rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                names.add(node.name.lower())
    return names


TEST_NAMES = _test_names()


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_check_is_complete(check_id):
    check = CHECKS[check_id]
    assert re.fullmatch(r"VR\d{3}", check.id)
    assert check.id[2] in AREAS
    assert re.fullmatch(r"[a-z0-9-]+", check.name)
    assert check.title and check.title == check.title.strip() and "\n" not in check.title
    assert isinstance(check.severity, Severity)
    assert "PASS:" in check.doc and "FAIL:" in check.doc, "docstring needs PASS and FAIL examples"
    assert "Remediation:" in check.doc
    prefix = f"test_{check.id.lower()}_"
    assert any(n.startswith(prefix + "pass") for n in TEST_NAMES), f"no {prefix}pass* test"
    assert any(n.startswith(prefix + "fail") for n in TEST_NAMES), f"no {prefix}fail* test"


def test_names_are_unique():
    names = [c.name for c in CHECKS.values()]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("name", sorted(docs.GENERATED))
def test_generated_docs_are_fresh(name):
    committed = (REPO / "docs" / name).read_text(encoding="utf-8")
    assert committed == docs.GENERATED[name](), f"docs/{name} is stale: run make docs"
