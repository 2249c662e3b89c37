"""Lazy re-exports (PEP 562) for the package roots.

A package names its public API without importing it: each name's module loads on
first use. So ``import vitalyst_render.cli`` (and with it ``render --help``) does not
pay for pydantic, Jinja2 and ruamel, which only a render needs.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, where ``exports`` maps each
    public name to the module (relative to ``package``) that defines it.

    A submodule that is not imported yet resolves too (``vitalyst_render.checks``), as
    it did when the package imported everything eagerly.
    """
    namespace = vars(sys.modules[package])

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is not None:
            value = getattr(importlib.import_module(module, package), name)
        elif name.isidentifier() and not name.startswith("__") and importlib.util.find_spec(f"{package}.{name}") is not None:
            value = importlib.import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value  # later look-ups find it without calling this
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *exports})

    return __getattr__, __dir__
