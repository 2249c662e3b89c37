"""The check registry: one module per check or tool adapter, plus plugins.

Importing this package registers nothing by itself; :func:`registry` imports every
check module on first use, so adding a check is adding a module to ``CHECK_MODULES``.
Then it loads the ``vitalyst_render.checks`` entry points of installed distributions:
each names a module (or an object in one) whose import registers checks with the
:func:`check` decorator; those checks carry the distribution's name as their origin.
"""

from __future__ import annotations

import importlib
import threading

from ..entrypoints import load
from ..errors import UsageError
from .base import (
    Check,
    Finding,
    Problem,
    RegistryError,
    Report,
    Severity,
    Skip,
    Suppressed,
    ToolUnavailable,
    _adopt,
    _REGISTRY,
    check,
    find_check,
    registry,
)

ENTRY_POINT_GROUP = "vitalyst_render.checks"

CHECK_MODULES = (
    "artefact_parses",
    "list_items_dropped",
    "docker_final_user",
    "docker_healthcheck",
    "docker_base_pinning",
    "docker_secret_env",
    "docker_add_url",
    "docker_eol_base",
    "docker_build_tools",
    "docker_ignore_reason",
    "compose_schema",
    "compose_hardening",
    "compose_healthcheck",
    "compose_references",
    "compose_ports",
    "compose_updates",
    "compose_secrets",
    "compose_networks",
    "compose_swarm_dropped",
    "compose_stack_version",
    "kube_run_as_non_root",
    "kube_container_security",
    "kube_host_access",
    "kube_image_pinning",
    "kube_pull_policy",
    "kube_probes",
    "kube_service_selector",
    "kube_disruption",
    "kube_resources",
    "kube_network_policy",
    "kube_deprecated_api",
    "kube_secrets",
    "kube_namespace",
    "kube_service_account",
    "redis_conf",
    "cross_health",
    "cross_ports",
    "cross_memory",
    "cross_images",
    "cross_edges",
    "cross_egress",
    "cross_secrets",
    "cross_secret_files",
    "cross_alerts",
    "cross_pins",
    "cross_runbook",
    "cross_backups",
    "promql_parse",
    "promql_counter_rate",
    "promql_bytes_ratio",
    "promql_catalogue",
    "promql_container_scope",
    "promql_rate_window",
    "alert_hygiene",
    "alert_annotation_labels",
    "hadolint",
    "kubernetes_schema",
    "promtool",
    "amtool",
    "redis_live",
    "shellcheck",
)

_loaded = False
_loading = threading.Lock()


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    with _loading:
        if _loaded:
            return
        for module in CHECK_MODULES:
            importlib.import_module(f"{__name__}.{module}")
        before = set(_REGISTRY)
        try:
            for origin, _ in load(ENTRY_POINT_GROUP):
                _adopt(origin, before)
                before = set(_REGISTRY)
        except RegistryError as exc:
            raise UsageError(f"a plugin's check cannot be registered: {exc}") from None
        _loaded = True


__all__ = [
    "ENTRY_POINT_GROUP",
    "Check",
    "Finding",
    "Problem",
    "RegistryError",
    "Report",
    "Severity",
    "Skip",
    "Suppressed",
    "ToolUnavailable",
    "check",
    "find_check",
    "registry",
]
