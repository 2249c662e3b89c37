"""The editor schema for profiles as written (issue 13): generated from the models, fresh,
named by every shipped profile's modeline, and accepting exactly what the loader reads:
partial profiles, ``extends``, ``abstract`` and ``key+``; wrong types and unknown keys refused."""

from __future__ import annotations

import json
import posixpath
import re
import subprocess
import sys

import jsonschema
import pytest
from click.testing import CliRunner

from vitalyst_render import docs
from vitalyst_render.checks import registry
from vitalyst_render.cli import cli
from vitalyst_render.yamlsource import load_yaml

from .conftest import PROFILES, REPO

SCHEMA_FILE = REPO / "schemas" / "profile.schema.json"
MODELINE = "# yaml-language-server: $schema=../schemas/profile.schema.json"
SHIPPED = sorted(p for p in PROFILES.glob("*.yaml") if not p.name.endswith(".lock.yaml"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    return jsonschema.Draft202012Validator(schema)


def errors(validator: jsonschema.Draft202012Validator, text: str) -> list[str]:
    data, _ = load_yaml(text, "profile.yaml")
    return [error.message for error in validator.iter_errors(data)]


def test_the_committed_schema_is_fresh():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == docs.SCHEMAS_GENERATED["profile.schema.json"](), (
        "schemas/profile.schema.json is stale: run make docs"
    )


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_profile_names_the_schema_and_validates(validator, path):
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == MODELINE
    target = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", text.splitlines()[0]).group(1)
    assert (path.parent / target).resolve() == SCHEMA_FILE.resolve()
    assert errors(validator, text) == []


def test_the_modeline_resolves_in_the_wheel_layout_too():
    # pyproject's force-include puts profiles/ and schemas/ side by side under _data/.
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    profiles = re.search(r'^"profiles" = "([^"]+)"$', pyproject, re.M).group(1)
    schemas = re.search(r'^"schemas" = "([^"]+)"$', pyproject, re.M).group(1)
    assert posixpath.normpath(posixpath.join(profiles, "../schemas/profile.schema.json")) == f"{schemas}/profile.schema.json"


def test_a_partial_child_with_the_directives_is_accepted(validator):
    assert errors(validator, "extends: prod\nservices:\n  backend:\n    replicas: 5\n    secrets+: [stripe-key]\n") == []
    assert errors(validator, "abstract: true\nmonitoring:\n  receivers+: [{name: pager}]\n") == []


@pytest.mark.parametrize(
    "text",
    [
        "extends: prod\nservices:\n  backend:\n    replicas: many\n",
        "extends: prod\nservices:\n  backend:\n    replica: 2\n",
        "extends: prod\nservice: {}\n",
        "extends: Prod\n",
        "abstract: yes please\n",
        "extends: prod\nservices:\n  backend:\n    secrets: [a]\n    secrets+: [b]\n",
        "extends: prod\nservices:\n  backend:\n    replicas+: [1]\n",
        "extends: prod\nservices:\n  backend:\n    env:\n      PORT: 8000\n",
    ],
    ids=["wrong-type", "unknown-key", "unknown-top-level-key", "bad-extends", "bad-abstract", "key-and-key+", "key+-of-a-scalar",
         "number-as-env-text"],
)
def test_mistakes_are_refused(validator, text):
    assert errors(validator, text)


def test_every_check_example_overlay_is_accepted(validator):
    """What the loader reads in the examples, the editor accepts too."""
    overlays = {e.overlay for c in registry().values() for e in c.examples if e.overlay is not None}
    assert len(overlays) > 10
    for overlay in sorted(overlays):
        assert errors(validator, f"extends: prod\n{overlay}") == [], overlay


def test_render_schema_prints_it():
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0, result.output
    assert result.output == SCHEMA_FILE.read_text(encoding="utf-8")
    resolved = CliRunner().invoke(cli, ["schema", "--resolved"])
    assert resolved.exit_code == 0, resolved.output
    assert resolved.output == (REPO / "docs" / "profile.schema.json").read_text(encoding="utf-8")


def test_the_installed_copy_docs_editors_names_is_this_schema():
    editors = (REPO / "docs" / "editors.md").read_text(encoding="utf-8")
    command = re.search(r'^python -c "(.+)"$', editors, re.M).group(1)
    found = subprocess.run([sys.executable, "-c", command], capture_output=True, text=True, check=True, cwd=REPO)
    assert found.stdout.strip() and open(found.stdout.strip(), encoding="utf-8").read() == SCHEMA_FILE.read_text(encoding="utf-8")
