"""Every JSON schema we ship is a valid schema of the draft it declares: the checks load
them without asking the metaschema on every run, so this is where a broken one shows."""

from __future__ import annotations

import json

import jsonschema
import pytest

from .conftest import REPO

SCHEMAS = sorted((REPO / "schemas").rglob("*.json"))


@pytest.mark.parametrize("path", SCHEMAS, ids=[p.relative_to(REPO / "schemas").as_posix() for p in SCHEMAS])
def test_shipped_schema_is_valid_under_its_metaschema(path):
    schema = json.loads(path.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema, default=None)
    assert validator is not None, f"{path.name} declares no known $schema"
    validator.check_schema(schema)


def test_a_broken_schema_is_caught():
    with pytest.raises(jsonschema.SchemaError):
        jsonschema.Draft202012Validator.check_schema({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "objekt"})
