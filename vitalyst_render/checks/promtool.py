"""VR903–VR905: promtool checks the rules, runs their unit tests, and checks the config."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..artefacts import Artefact
from ._rule_scope import Unprovable, rules_file_of, scoped_files
from ._tools import ToolRun, line_of
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

_SCOPE = 'container_label_com_docker_compose_project="vitalyst"'
_BY = "container_label_com_docker_compose_service, name"
_CPU_EXPR_DEV = f"""        expr: |-
          sum by ({_BY}) (rate(container_cpu_usage_seconds_total{{{_SCOPE}}}[5m]))
            / on ({_BY})
          (sum by ({_BY}) (container_spec_cpu_quota{{{_SCOPE}}} > 0) / sum by ({_BY}) (container_spec_cpu_period{{{_SCOPE}}}))
            > 0.8
"""

_RUNBOOK = ('runbook_url="https://git.vitalyst.example/vitalyst/deploy/blob/main/out/dev/docs/RUNBOOK.md#alert-containerhighcpu", '
            'summary="Container CPU above 80% of its limit"')


def _compose_labels(project: str, container: str) -> str:
    return (f'container_label_com_docker_compose_container_number="1", container_label_com_docker_compose_oneoff="False", '
            f'container_label_com_docker_compose_project="{project}", container_label_com_docker_compose_service="backend", '
            f'id="/system.slice/docker-{container}.scope", image="ghcr.io/vitalyst/backend:dev", instance="cadvisor:8080", '
            'job="cadvisor-compose"')


_LABELS = _compose_labels("vitalyst", "3c9d0f1e")
_OTHER = _compose_labels("vitalyst-other", "9a8b7c6d")

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
            '              Labels:{alertname="ContainerHighCPU", container_label_com_docker_compose_service="backend", name="vitalyst-backend-1", severity="warning"}',
            f'              Annotations:{{description="Container vitalyst-backend-1 has used 90% of its CPU limit for 5m.", {_RUNBOOK}}}',
            "            ],",
            "        got:[",
            "            0:",
            f'              Labels:{{alertname="ContainerHighCPU", {_LABELS}, name="vitalyst-backend-1", severity="warning"}}',
            f'              Annotations:{{description="Container vitalyst-backend-1 has used 8.1e+04% of its CPU limit for 5m.", {_RUNBOOK}}},',
            "            1:",
            # Another project's container on the same host: the seed's rule sees it too.
            f'              Labels:{{alertname="ContainerHighCPU", {_OTHER}, name="vitalyst-other-backend-1", severity="warning"}}',
            f'              Annotations:{{description="Container vitalyst-other-backend-1 has used 9e+04% of its CPU limit for 5m.", {_RUNBOOK}}}',
            "            ]",
            "    alertname: ContainerHighCPU, time: 15m,",
            "        exp:[],",
            "        got:[",
            "            0:",
            f'              Labels:{{alertname="ContainerHighCPU", {_LABELS}, name="vitalyst-backend-1", severity="warning"}}',
            f'              Annotations:{{description="Container vitalyst-backend-1 has used 9.877e+10% of its CPU limit for 5m.", {_RUNBOOK}}}',
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
    for files in ctx.monitoring:
        if files.rules is None:
            continue
        run = ctx.run_tool("promtool", ["check", "rules", "rules.yml"], {"rules.yml": files.rules.text})
        if run.returncode != 0:
            yield from _failures(ctx, files.rules.path, run)


@check("VR904", "promtool-test-rules", "an alert does not behave as its unit test says", Severity.ERROR, tool="promtool",
       examples=EXAMPLES_VR904)
def test_rules(ctx: CheckContext) -> Iterable[Problem]:
    """``promtool test rules`` replays the scenarios in ``rules.test.yml``: each alert
    must fire on its realistic input with the exact labels and annotations, and stay
    silent on its look-alike (an idle container with a large CPU counter, a high page
    cache, an old restart count). Each scenario runs against the rules that can see its
    series or feed the alerts it asserts (the others evaluate on no data and cannot
    change its verdict), so the cost grows with the scenarios, not with scenarios ×
    rules; a rule file whose scope cannot be proven runs whole.

    Remediation: fix the rule or, if the behaviour change is intended, its scenario.
    """
    platforms = [(files.rules, files.tests) for files in ctx.monitoring if files.rules is not None and files.tests is not None]
    runs = [(tests, arguments, inputs) for rules, tests in platforms for arguments, inputs in _unit_test_runs(rules, tests)]
    # promtool tests on one core: its runs (every platform's, and a long file's parts) go side by side.
    with ThreadPoolExecutor(max_workers=max(1, min(len(runs), os.cpu_count() or 1))) as pool:
        results = list(pool.map(lambda run: ctx.run_tool("promtool", run[1], run[2]), runs))
    for _, tests in platforms:
        failed = [result for (owner, _, _), result in zip(runs, results) if owner is tests and result.returncode != 0]
        if failed:
            reported = [line for result in failed for line in failures_reported(result)]
            yield Problem("\n".join(["rule unit tests failed:", *reported]), ctx.location(tests.path),
                          hint=f"run promtool test rules {tests.path} in the profile folder")


#: A part of a rule unit-test file holds at least this many scenarios: fewer do not
#: repay another promtool process.
_SCENARIOS_PER_RUN = 16


def _unit_test_runs(rules: Artefact, tests: Artefact) -> list[tuple[list[str], dict[str, str]]]:
    """The ``promtool test rules`` runs (arguments, files) that together test ``tests``:
    each scenario against only the rules that can see or shape its data (see
    :mod:`._rule_scope`), which gives the verdicts of the whole files without the cost
    of every rule at every step of every scenario; the scoped files in one or two parts."""
    try:
        files, test_files = scoped_files(rules.data, tests.data)
    except Unprovable:
        return [(["test", "rules", "rules.test.yml"], {"rules.yml": rules.text, "rules.test.yml": tests.text})]
    scenarios = len(tests.data.get("tests") or [])
    parts = max(1, min(os.cpu_count() or 1, scenarios // _SCENARIOS_PER_RUN, len(test_files)))
    size = -(-len(test_files) // parts)
    chunks = [test_files[i:i + size] for i in range(0, len(test_files), size)]
    return [(["test", "rules", *chunk], {name: files[name] for test_file in chunk for name in (test_file, rules_file_of(test_file))})
            for chunk in chunks]


def failures_reported(run: ToolRun) -> list[str]:
    """What a failed ``promtool test rules`` says failed: it prints each file's header
    and SUCCESS on stdout, and what failed on stderr."""
    return [line.rstrip() for line in run.stderr.splitlines() if line.strip()] or \
        [line for line in run.lines() if not line.startswith("Unit Testing:")]


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
    platforms = [(files.config, files.rules.text) for files in ctx.monitoring if files.config is not None and files.rules is not None]
    # The run with stand-ins goes beside the real one rather than after it fails.
    runs = [run for config, rules in platforms for run in (_config_run(config.text, rules), _stand_in_run(config, rules))]
    with ThreadPoolExecutor(max_workers=max(1, min(len(runs), os.cpu_count() or 1))) as pool:
        results = list(pool.map(lambda run: None if run is None else ctx.run_tool("promtool", ["check", "config", "prometheus.yml"], run), runs))
    for index, (config, _) in enumerate(platforms):
        yield from _config_verdict(ctx, config, results[2 * index], results[2 * index + 1])


def _config_run(config: str, rules: str) -> dict[str, str]:
    return {"prometheus.yml": config, "rules.yml": rules}


def _stand_in_run(config: Artefact, rules: str) -> dict[str, str] | None:
    """The config with static stand-ins for its Kubernetes service discovery, if it has any."""
    stand_in, jobs = without_kubernetes_sd(config.data)
    if not jobs:
        return None
    # JSON is valid YAML, and keeps the stand-in's text simple.
    return {"prometheus.yml": json.dumps(stand_in), "rules.yml": rules, "stand-in-token": "token\n", "stand-in-ca.crt": _STAND_IN_CA}


def _config_verdict(ctx: CheckContext, config_artefact: Artefact, run: ToolRun | None, rerun: ToolRun | None) -> Iterable[Problem]:
    path = config_artefact.path
    if run is None or run.returncode == 0:
        return
    if "kubernetes_sd_configs not found" not in run.output or rerun is None:
        yield from _failures(ctx, path, run)
        return
    _, jobs = without_kubernetes_sd(config_artefact.data)
    for job in config_artefact.data.get("scrape_configs") or []:
        for index, sd in enumerate(job.get("kubernetes_sd_configs") or []):
            unknown = set(sd) - {"role", "namespaces", "selectors", "api_server", "kubeconfig_file", "attach_metadata"}
            if sd.get("role") not in _SD_ROLES or unknown:
                yield Problem(f"job {job.get('job_name')}: kubernetes_sd_configs[{index}] has role {sd.get('role')!r}"
                              + (f" and unknown fields {sorted(unknown)}" if unknown else ""), ctx.location(path))
    if rerun.returncode != 0:
        yield from _failures(ctx, path, rerun)
    yield Problem(f"this promtool lacks Kubernetes service discovery; jobs {', '.join(jobs)} were checked with static stand-ins",
                  ctx.location(path), severity=Severity.INFO)
