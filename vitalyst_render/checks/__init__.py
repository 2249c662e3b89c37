"""The check registry: one module per check or tool adapter.

Importing this package registers nothing by itself; :func:`registry` imports every
check module on first use, so adding a check is adding a module to ``CHECK_MODULES``.
"""

from __future__ import annotations

import importlib

from .base import Check, Finding, Problem, Report, Severity, Skip, Suppressed, ToolUnavailable, check, registry

CHECK_MODULES = (
    "artefact_parses",
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
    "kube_run_as_non_root",
    "kube_container_security",
    "kube_host_access",
    "kube_image_pinning",
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
    "cross_secrets",
    "cross_alerts",
    "promql_parse",
    "promql_counter_rate",
    "promql_bytes_ratio",
    "promql_catalogue",
    "promql_rate_window",
    "alert_hygiene",
    "alert_annotation_labels",
    "hadolint",
    "kubernetes_schema",
    "promtool",
    "amtool",
    "redis_live",
)

_loaded = False


def _load_all() -> None:
    global _loaded
    if not _loaded:
        for module in CHECK_MODULES:
            importlib.import_module(f"{__name__}.{module}")
        _loaded = True


__all__ = ["Check", "Finding", "Problem", "Report", "Severity", "Skip", "Suppressed", "ToolUnavailable", "check", "registry"]
