"""VR903–VR905: promtool checks the rules, runs their unit tests, and checks the config."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from typing import Any


from ._tools import ToolRun, line_of, run_tool
from .base import Problem, Severity, check
from .context import CheckContext
from .examples import ADD_WORKER_METRICS, Edit, Expect, Fail, Pass

RULES = "prometheus/rules.yml"
TESTS = "prometheus/rules.test.yml"
CONFIG = "prometheus/prometheus.yml"

_RESTART_EXPR = 'expr: "increase(kube_pod_container_status_restarts_total{namespace=\\"vitalyst\\"}[15m]) > 0"'

EXAMPLES_VR903 = (
    Fail(
        "an alert expression with an unclosed parenthesis",
        edits=[Edit(RULES, _RESTART_EXPR, _RESTART_EXPR.replace("[15m])", "[15m]"))],
        expect=[Expect(RULES, 'rules.yml: 34:15: group "vitalyst-containers", rule 3, "ContainerRestarting": '
                              "could not parse expression: 1:81: parse error: unclosed left parenthesis")],
    ),
    Fail(
        "an annotation template with an unclosed action",
        edits=[Edit(RULES, 'description: "Container {{ $labels.namespace }}/{{ $labels.pod }}/{{ $labels.container }} restarted',
                    'description: "Container {{ $labels.namespace }/{{ $labels.pod }}/{{ $labels.container }} restarted')],
        expect=[Expect(RULES, 'rules.yml: group "vitalyst-containers", rule 3, "ContainerRestarting": annotation "description": '
                              'template: __alert_ContainerRestarting:1: unexpected "}" in operand')],
    ),
    Pass(
        "a worker with its own request metrics records job:http_requests:rate5m again, which promtool only lints",
        overlay=ADD_WORKER_METRICS,
    ),
)

_CPU_EXPR_DEV = """        expr: |-
          sum by (name) (rate(container_cpu_usage_seconds_total{name=~"vitalyst_.+"}[5m]))
            / on (name)
          (sum by (name) (container_spec_cpu_quota{name=~"vitalyst_.+"} > 0) / sum by (name) (container_spec_cpu_period{name=~"vitalyst_.+"}))
            > 0.8
"""

EXAMPLES_VR904 = (
    Fail(
        "the seed's ContainerHighCPU, a raw counter above 0.8, fires on the idle container's scenario",
        profile="dev",
        edits=[Edit(RULES, _CPU_EXPR_DEV, "        expr: container_cpu_usage_seconds_total > 0.8\n")],
        expect=[Expect(TESTS, "\n".join([
            "rule unit tests failed:",
            "  FAILED:",
            "    alertname: ContainerHighCPU, time: 15m,",
            "        exp:[",
            "            0:",
            '              Labels:{alertname="ContainerHighCPU", name="vitalyst_backend.1.q2w3e4r5t6", severity="warning"}',
            '              Annotations:{description="Container vitalyst_backend.1.q2w3e4r5t6 has used 90% of its CPU limit for 5m.", '
            'runbook_url="https://git.vitalyst.example/vitalyst/deploy/blob/main/out/dev/docs/RUNBOOK.md#alert-containerhighcpu", summary="Container CPU above 80% of its limit"}',
            "            ],",
            "        got:[",
            "            0:",
            '              Labels:{alertname="ContainerHighCPU", id="/docker/3c9d", image="backend", instance="10.0.9.2:8080", '
            'job="cadvisor-swarm", name="vitalyst_backend.1.q2w3e4r5t6", severity="warning"}',
            '              Annotations:{description="Container vitalyst_backend.1.q2w3e4r5t6 has used 8.1e+04% of its CPU limit for 5m.", '
            'runbook_url="https://git.vitalyst.example/vitalyst/deploy/blob/main/out/dev/docs/RUNBOOK.md#alert-containerhighcpu", summary="Container CPU above 80% of its limit"}',
            "            ]",
            "    alertname: ContainerHighCPU, time: 15m,",
            "        exp:[],",
            "        got:[",
            "            0:",
            '              Labels:{alertname="ContainerHighCPU", id="/docker/3c9d", image="backend", instance="10.0.9.2:8080", '
            'job="cadvisor-swarm", name="vitalyst_backend.1.q2w3e4r5t6", severity="warning"}',
            '              Annotations:{description="Container vitalyst_backend.1.q2w3e4r5t6 has used 9.877e+10% of its CPU limit for 5m.", '
            'runbook_url="https://git.vitalyst.example/vitalyst/deploy/blob/main/out/dev/docs/RUNBOOK.md#alert-containerhighcpu", summary="Container CPU above 80% of its limit"}',
            "            ]",
        ]))],
    ),
    Pass(
        "thresholds raised in the profile: each alert and its scenarios move together",
        overlay="monitoring:\n  thresholds: {cpu_ratio: 0.9, memory_ratio: 0.9, error_ratio: 0.1}\n",
    ),
)

EXAMPLES_VR905 = (
    Fail(
        "a scrape interval that is not a duration",
        profile="dev",
        edits=[Edit(CONFIG, 'scrape_interval: "30s"', 'scrape_interval: "often"')],
        expect=[Expect(CONFIG, 'FAILED: parsing YAML file prometheus.yml: not a valid duration string: "often"')],
    ),
    Pass("a worker's metrics endpoint in a compose profile: one more scrape job", profile="dev", overlay=ADD_WORKER_METRICS),
)


def _text(ctx: CheckContext, path: str) -> str | None:
    artefact = ctx.artefact(path)
    return artefact.text if artefact is not None else None


def _failures(ctx: CheckContext, path: str, run: ToolRun) -> Iterable[Problem]:
    """One finding per meaningful line of a failed promtool run (not its headers, nor a
    bare ``FAILED:`` before the lines that say what failed)."""
    lines = [line for line in run.lines() if not line.startswith(("Checking ", "Unit Testing:")) and line.strip() != "FAILED:"]
    for line in lines or [f"exit status {run.returncode}"]:
        yield Problem(line.strip(), ctx.location(path, line_of(line)))


@check("VR903", "promtool-check-rules", "promtool rejects the rule file", Severity.ERROR, tool="promtool",
       examples=EXAMPLES_VR903)
def check_rules(ctx: CheckContext) -> Iterable[Problem]:
    """``promtool check rules`` parses every rule group: PromQL syntax, label and
    annotation template syntax. Rules that share a name are only a lint warning to
    promtool (two HTTP metric schemes record the same series names for different
    jobs); duplicate alert names are VR407's.

    Remediation: fix the rule in ``vitalyst_render/monitoring.py`` or the role that
    writes it.
    """
    text = _text(ctx, RULES)
    if text is None:
        return
    run = run_tool("promtool", ["check", "rules", "rules.yml"], {"rules.yml": text})
    if run.returncode != 0:
        yield from _failures(ctx, RULES, run)


@check("VR904", "promtool-test-rules", "an alert does not behave as its unit test says", Severity.ERROR, tool="promtool",
       examples=EXAMPLES_VR904)
def test_rules(ctx: CheckContext) -> Iterable[Problem]:
    """``promtool test rules`` replays the scenarios in ``rules.test.yml``: each alert
    must fire on its realistic input with the exact labels and annotations, and stay
    silent on its look-alike (an idle container with a large CPU counter, a high page
    cache, an old restart count).

    Remediation: fix the rule or, if the behaviour change is intended, its scenario.
    """
    rules, tests = _text(ctx, RULES), _text(ctx, TESTS)
    if rules is None or tests is None:
        return
    run = run_tool("promtool", ["test", "rules", "rules.test.yml"], {"rules.yml": rules, "rules.test.yml": tests})
    if run.returncode != 0:
        report = [line for line in run.lines() if not line.startswith("Unit Testing:")]
        yield Problem("\n".join(["rule unit tests failed:", *report]), ctx.location(TESTS),
                      hint="run promtool test rules prometheus/rules.test.yml in the profile folder")


def without_kubernetes_sd(config: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A copy whose kubernetes_sd_configs are static stand-ins, plus the jobs changed.
    In-cluster credential files, which exist only in a pod, point at stand-ins too."""
    copied = copy.deepcopy(config)
    changed: list[str] = []
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


@check("VR905", "promtool-check-config", "promtool rejects the Prometheus configuration", Severity.ERROR, tool="promtool",
       examples=EXAMPLES_VR905)
def check_config(ctx: CheckContext) -> Iterable[Problem]:
    """``promtool check config`` validates ``prometheus.yml`` together with the rule
    file it loads.

    Debian's promtool is built without Kubernetes service discovery and rejects
    ``kubernetes_sd_configs``. When it does, we check the blocks ourselves (roles and
    fields) and let promtool validate everything else with those blocks replaced by
    static stand-ins; an info finding says so.

    Remediation: fix ``templates/prometheus/prometheus.yml.j2``.
    """
    config_artefact, rules = ctx.artefact(CONFIG), _text(ctx, RULES)
    if config_artefact is None or rules is None:
        return
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
