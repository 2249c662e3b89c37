"""VR903–VR905: promtool checks the rules, runs their unit tests, and checks the config."""

from __future__ import annotations

import copy
from typing import Iterable

from ._tools import line_of, run_tool
from .base import Problem, Severity, check

RULES = "prometheus/rules.yml"
TESTS = "prometheus/rules.test.yml"
CONFIG = "prometheus/prometheus.yml"


def _text(ctx, path: str) -> str | None:  # noqa: ANN001
    artefact = ctx.artefact(path)
    return artefact.text if artefact is not None else None


def _failures(ctx, path: str, run) -> Iterable[Problem]:  # noqa: ANN001
    """One finding per meaningful line of a failed promtool run."""
    lines = [line for line in run.lines() if not line.startswith(("Checking ", "Unit Testing:"))]
    for line in lines or [f"exit status {run.returncode}"]:
        yield Problem(line.strip(), ctx.location(path, line_of(line)))


@check("VR903", "promtool-check-rules", "promtool rejects the rule file", Severity.ERROR, tool="promtool")
def check_rules(ctx) -> Iterable[Problem]:
    """``promtool check rules`` parses every rule group: PromQL syntax, duplicate rule
    names within a group, label and annotation template syntax.

    Remediation: fix the rule in ``vitalyst_render/monitoring.py``.

    FAIL: ``expr: rate(x[5m]`` (unbalanced parenthesis).
    PASS: the rendered ``prometheus/rules.yml`` of every profile.
    """
    text = _text(ctx, RULES)
    if text is None:
        return
    run = run_tool("promtool", ["check", "rules", "rules.yml"], {"rules.yml": text})
    if run.returncode != 0:
        yield from _failures(ctx, RULES, run)


@check("VR904", "promtool-test-rules", "an alert does not behave as its unit test says", Severity.ERROR, tool="promtool")
def test_rules(ctx) -> Iterable[Problem]:
    """``promtool test rules`` replays the scenarios in ``rules.test.yml``: each alert
    must fire on its realistic input with the exact labels and annotations, and stay
    silent on its look-alike (an idle container with a large CPU counter, a high page
    cache, an old restart count).

    Remediation: fix the rule or, if the behaviour change is intended, its scenario.

    FAIL: ``container_cpu_usage_seconds_total > 0.8`` (fires on the idle scenario).
    PASS: ``rate(...) / limit > 0.8`` with both scenarios passing.
    """
    rules, tests = _text(ctx, RULES), _text(ctx, TESTS)
    if rules is None or tests is None:
        return
    run = run_tool("promtool", ["test", "rules", "rules.test.yml"], {"rules.yml": rules, "rules.test.yml": tests})
    if run.returncode != 0:
        yield Problem("rule unit tests failed:\n" + run.output.strip(), ctx.location(TESTS),
                      hint="run promtool test rules prometheus/rules.test.yml in the profile folder")


def without_kubernetes_sd(config: dict) -> tuple[dict, list[str]]:
    """A copy whose kubernetes_sd_configs are static stand-ins, plus the jobs changed.
    In-cluster credential files, which exist only in a pod, point at stand-ins too."""
    copied = copy.deepcopy(config)
    changed = []
    for job in copied.get("scrape_configs") or []:
        if isinstance(job, dict) and "kubernetes_sd_configs" in job:
            del job["kubernetes_sd_configs"]
            job.setdefault("static_configs", [{"targets": ["kubernetes-sd.invalid:9"]}])
            changed.append(str(job.get("job_name")))
            if "credentials_file" in (job.get("authorization") or {}):
                job["authorization"]["credentials_file"] = "stand-in-token"
            if "ca_file" in (job.get("tls_config") or {}):
                job["tls_config"]["ca_file"] = "stand-in-ca.crt"
    return copied, changed


# A throwaway self-signed certificate: promtool parses ca_file, so it must be real PEM.
_STAND_IN_CA = """-----BEGIN CERTIFICATE-----
MIIBnTCCAUOgAwIBAgIUZEaa5fLrqwXJc6Cs7T2ZkDH9Lh8wCgYIKoZIzj0EAwIw
IzEhMB8GA1UEAwwYdml0YWx5c3QtcmVuZGVyIHN0YW5kLWluMCAXDTI2MTEyNzIx
MzkyN1oYDzIxMjYxMTAzMjEzOTI3WjAjMSEwHwYDVQQDDBh2aXRhbHlzdC1yZW5k
ZXIgc3RhbmQtaW4wWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQSwVF/Ry+nlfLx
MhRlWfdzLCGJJbhicYC/ktw7VBRex1sZFzcItnBsNs2dRaJLlyf+EWfN1lCKvTeR
EH686BGuo1MwUTAdBgNVHQ4EFgQUfw9cjl+hooONPPpIiv76r0xsTbswHwYDVR0j
BBgwFoAUfw9cjl+hooONPPpIiv76r0xsTbswDwYDVR0TAQH/BAUwAwEB/zAKBggq
hkjOPQQDAgNIADBFAiAm8YPVTp0z7JRzQWr/XphM95D4KH8R6P5NKciFP9zthwIh
AJKwWyRmyxkOueHVqoDzsy2IXmNEdPe0WoS7oz/9h3AI
-----END CERTIFICATE-----
"""

_SD_ROLES = {"node", "pod", "service", "endpoints", "endpointslice", "ingress"}


@check("VR905", "promtool-check-config", "promtool rejects the Prometheus configuration", Severity.ERROR, tool="promtool")
def check_config(ctx) -> Iterable[Problem]:
    """``promtool check config`` validates ``prometheus.yml`` together with the rule
    file it loads.

    Debian's promtool is built without Kubernetes service discovery and rejects
    ``kubernetes_sd_configs``. When it does, we check the blocks ourselves (roles and
    fields) and let promtool validate everything else with those blocks replaced by
    static stand-ins; an info finding says so.

    Remediation: fix ``templates/prometheus/prometheus.yml.j2``.

    FAIL: a scrape job with ``scrape_interval: often``.
    PASS: the rendered ``prometheus/prometheus.yml`` of every profile.
    """
    config_artefact, rules = ctx.artefact(CONFIG), _text(ctx, RULES)
    if config_artefact is None or rules is None:
        return
    import json

    run = run_tool("promtool", ["check", "config", "prometheus.yml"], {"prometheus.yml": config_artefact.text, "rules.yml": rules})
    if run.returncode == 0:
        return
    if "kubernetes_sd_configs not found" not in run.output:
        yield from _failures(ctx, CONFIG, run)
        return
    stand_in, jobs = without_kubernetes_sd(config_artefact.data)
    for job in config_artefact.data.get("scrape_configs") or []:
        for index, sd in enumerate(job.get("kubernetes_sd_configs") or []):
            unknown = set(sd) - {"role", "namespaces", "selectors", "api_server", "kubeconfig_file", "attach_metadata"}
            if sd.get("role") not in _SD_ROLES or unknown:
                yield Problem(f"job {job.get('job_name')}: kubernetes_sd_configs[{index}] has role {sd.get('role')!r}"
                              + (f" and unknown fields {sorted(unknown)}" if unknown else ""), ctx.location(CONFIG))
    # JSON is valid YAML, and keeps the stand-in's text simple.
    rerun = run_tool(
        "promtool",
        ["check", "config", "prometheus.yml"],
        {"prometheus.yml": json.dumps(stand_in), "rules.yml": rules, "stand-in-token": "token\n", "stand-in-ca.crt": _STAND_IN_CA},
    )
    if rerun.returncode != 0:
        yield from _failures(ctx, CONFIG, rerun)
    yield Problem(f"this promtool lacks Kubernetes service discovery; jobs {', '.join(jobs)} were checked with static stand-ins",
                  ctx.location(CONFIG), severity=Severity.INFO)
