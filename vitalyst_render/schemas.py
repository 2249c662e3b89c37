"""The JSON schemas we ship in schemas/, loaded and compiled once per process."""

from __future__ import annotations

import json
from functools import cache

import jsonschema_rs
from jsonschema import Draft202012Validator

from .resources import data_dir


@cache
def validator(name: str) -> Draft202012Validator:
    # Checking the schema against the metaschema costs more than validating with it;
    # the schemas are ours, so tests/test_schemas.py checks them once instead.
    schema = json.loads((data_dir("schemas") / name).read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


@cache
def fast_validator(name: str) -> jsonschema_rs.Validator:
    """The same schema compiled by jsonschema-rs, some hundred times quicker on a large
    document. It says whether a document is valid (a parity test holds it to
    :func:`validator`'s verdicts); findings are worded by :func:`validator`."""
    return jsonschema_rs.validator_for(json.loads((data_dir("schemas") / name).read_text(encoding="utf-8")))


def is_valid(name: str, document: object) -> bool:
    """Whether ``document`` passes schema ``name``: jsonschema-rs's verdict when it is
    valid, :func:`validator`'s when jsonschema-rs finds fault or cannot read it (a float
    infinity, say), so a verdict of invalid always comes from the validator that words it."""
    try:
        if fast_validator(name).is_valid(document):
            return True
    except (ValueError, TypeError, OverflowError):
        pass
    return validator(name).is_valid(document)
