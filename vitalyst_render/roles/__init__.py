"""The role registry: one module per service kind, plus plugin roles.

A profile's ``services`` accept every kind registered here. Built-in roles are
``python-app``, ``node-app``, ``neo4j``, ``redis`` and ``image``; an installed
distribution adds more through the ``vitalyst_render.roles`` entry-point group (each
entry point names a :class:`~vitalyst_render.roles.base.Role` subclass or instance).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import MappingProxyType
from typing import Annotated, Any, Union

from pydantic import Field, create_model

from ..entrypoints import load
from ..errors import UsageError
from ..profile.models import Profile
from ..profile.names import ServiceName
from .base import Role
from .image import ImageRole
from .neo4j import Neo4jRole
from .node_app import NodeAppRole
from .python_app import PythonAppRole
from .redis import RedisRole

BUILT_IN: tuple[Role, ...] = (PythonAppRole(), NodeAppRole(), Neo4jRole(), RedisRole(), ImageRole())
ENTRY_POINT_GROUP = "vitalyst_render.roles"


def _instance(loaded: Any, origin: str) -> Role:
    role = loaded() if isinstance(loaded, type) else loaded
    if not isinstance(role, Role) or not role.kind:
        raise UsageError(f"plugin role {origin} is not a vitalyst_render Role with a kind")
    kind_field = role.model.model_fields.get("kind")
    if kind_field is None or getattr(kind_field.annotation, "__args__", None) != (role.kind,):
        raise UsageError(f"plugin role {origin}: its model's kind field must be Literal[{role.kind!r}]")
    return role


@cache
def registry(*, plugins: bool = True) -> Mapping[str, Role]:
    """Every role by kind: the built-in ones, then those of installed plugins (read-only:
    it is made once per process, and every render after uses it)."""
    roles = {role.kind: role for role in BUILT_IN}
    if plugins:
        for origin, loaded in load(ENTRY_POINT_GROUP):
            role = _instance(loaded, origin)
            if role.kind in roles:
                raise UsageError(f"plugin role {origin} registers kind {role.kind!r}, which exists already")
            roles[role.kind] = role
    return MappingProxyType(roles)


@cache
def profile_model(*, plugins: bool = True) -> type[Profile]:
    """The profile model whose ``services`` accept every registered kind, by ``kind``."""
    # Built at run time, since plugins add kinds: a discriminated union of every kind's model.
    models: tuple[Any, ...] = tuple(role.model for role in registry(plugins=plugins).values())
    service: Any = models[0] if len(models) == 1 else Union.__getitem__(models)
    services: Any = Annotated[
        dict[ServiceName, Annotated[service, Field(discriminator="kind")]],
        Field(min_length=1, description="The stack's services by name (a DNS-1035 label: a letter first), each with a kind (its role)."),
    ]
    return create_model("Profile", __base__=Profile, __module__=Profile.__module__, services=(services, ...))


__all__ = ["BUILT_IN", "ENTRY_POINT_GROUP", "Role", "profile_model", "registry"]
