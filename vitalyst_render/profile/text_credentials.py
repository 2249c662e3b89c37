"""Credentials in the text of a profile, refused at load (issue 15).

Every string a profile holds outside ``services.<name>.env`` (whose values VR606 treats,
naming the variable) is searched with the detector VR606 runs over generated files
(:func:`vitalyst_render.credentials.leaks`): a description, a reason, a vendor, a
command argument that holds an access key, a URL with a password or ``password=…``
would be copied into labels, rules, reports and dashboards. The error names the field
and what was found, never the credential.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from ..credentials import leaks

Path = tuple[str | int, ...]


def credential_problems(profile: BaseModel) -> Iterator[tuple[Path, str]]:
    """(field path, message) of each profile text that holds a credential, in field order."""
    for path, text in profile_strings(profile.model_dump(mode="python", by_alias=True), ()):
        if len(path) >= 3 and path[0] == "services" and path[2] == "env":
            continue
        found = leaks(text)
        if found:
            yield path, (
                f"expected text without credentials (declare a secret and mount it instead), got {found[0].what}"
            )


def profile_strings(value: Any, path: Path = ()) -> Iterator[tuple[Path, str]]:
    """Each string in a dumped profile (or part of one) with its field path, in field order."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from profile_strings(item, path + (key,))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from profile_strings(item, path + (index,))
