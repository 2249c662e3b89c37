"""The JSON schemas we ship in schemas/, loaded and compiled once per process."""

from __future__ import annotations

import json
from functools import cache

from jsonschema import Draft202012Validator

from .resources import data_dir


@cache
def validator(name: str) -> Draft202012Validator:
    # Checking the schema against the metaschema costs more than validating with it;
    # the schemas are ours, so tests/test_schemas.py checks them once instead.
    schema = json.loads((data_dir("schemas") / name).read_text(encoding="utf-8"))
    return Draft202012Validator(schema)
