"""JSON schemas of profiles, generated from the models (Draft 2020-12).

Two shapes, two schemas:

* the **resolved** profile (after ``extends``: every required field present), what
  ``render show`` prints: ``docs/profile.schema.json``;
* a profile **file as written**, for editors: ``schemas/profile.schema.json``. A child
  profile sets only what it changes, so no field is required at any depth; the file
  may say ``extends`` and ``abstract``; every list field ``key`` also takes ``key+``
  (append to the inherited list), though not both in one mapping; and a service
  without ``kind`` (the kind is inherited) matches any kind's fields. Unknown keys and
  wrong types are still refused, as the loader refuses them.
"""

from __future__ import annotations

import json
from typing import Any

from .merge import APPEND
from .types import DNS_LABEL

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def resolved_schema(*, plugins: bool = False) -> dict[str, Any]:
    from ..roles import profile_model  # the roles import the profile package

    schema: dict[str, Any] = profile_model(plugins=plugins).model_json_schema(mode="validation", by_alias=True)
    schema["$schema"] = DRAFT
    schema["title"] = "vitalyst-render profile (resolved, after extends)"
    return schema


def editor_schema(*, plugins: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = _as_written(resolved_schema(plugins=plugins))
    schema["title"] = "vitalyst-render profile file (as written: partial, with extends, abstract and key+)"
    schema["properties"] = {
        "extends": {
            "type": "string",
            "pattern": DNS_LABEL,
            "description": "Name of the profile this one inherits from: maps deep-merge, lists and scalars replace "
            "(key+ appends to a list).",
        },
        "abstract": {"type": "boolean", "description": "Only extended by other profiles, never rendered itself."},
        **schema["properties"],
    }
    return schema


def schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _as_written(node: Any) -> Any:
    if isinstance(node, list):
        return [_as_written(item) for item in node]
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("required", "discriminator"):
            continue  # a child sets what it changes; without required `kind`, the tag cannot select
        # A service that inherits its kind may match several kinds' fields at once.
        result["anyOf" if key == "oneOf" else key] = value if key in ("default", "examples", "const", "enum") else _as_written(value)
    properties = result.get("properties")
    if isinstance(properties, dict):
        appended = {f"{name}{APPEND}": _appending(name, spec) for name, spec in properties.items() if _list_schema(spec)}
        if appended:
            result["properties"] = {**properties, **appended}
            # `not required [key, key+]` rather than dependentSchemas: editors on draft-07 read it too.
            result["allOf"] = [*result.get("allOf", []), *({"not": {"required": [name[: -len(APPEND)], name]}} for name in appended)]
    return result


def _list_schema(spec: Any) -> dict[str, Any] | None:
    """The array branch of a property's schema (a list, or a list or null)."""
    if not isinstance(spec, dict):
        return None
    if spec.get("type") == "array":
        return spec
    return next((branch for branch in spec.get("anyOf", []) if isinstance(branch, dict) and branch.get("type") == "array"), None)


def _appending(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    array = _list_schema(spec) or {}
    # An append may add one item to a list that must hold several.
    return {**{k: v for k, v in array.items() if k != "minItems"}, "description": f"Appended to the inherited {name}."}
