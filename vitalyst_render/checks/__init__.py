"""The check registry: one module per check or tool adapter.

Importing this package registers nothing by itself; :func:`registry` imports every
check module on first use, so adding a check is adding a module to ``CHECK_MODULES``.
"""

from __future__ import annotations

import importlib

from .base import Check, Finding, Problem, Severity, Skip, Suppressed, ToolUnavailable, check, registry

CHECK_MODULES = (
    "artefact_parses",
    "docker_final_user",
    "docker_healthcheck",
    "docker_base_pinning",
    "docker_secret_env",
    "docker_add_url",
    "docker_eol_base",
    "docker_build_tools",
    "compose_schema",
    "compose_hardening",
    "compose_healthcheck",
    "compose_references",
    "compose_ports",
    "compose_updates",
    "compose_secrets",
    "compose_networks",
    "hadolint",
)

_loaded = False


def _load_all() -> None:
    global _loaded
    if not _loaded:
        for module in CHECK_MODULES:
            importlib.import_module(f"{__name__}.{module}")
        _loaded = True


__all__ = ["Check", "Finding", "Problem", "Severity", "Skip", "Suppressed", "ToolUnavailable", "check", "registry"]
