"""VR409: container alerts select this stack's containers by the labels their platform really gives them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import promql_parser as pql

from ..monitoring import MonitoringPlan
from ._promql import walk
from .base import Problem, Severity, check
from .context import CheckContext
from .examples import Edit, Expect, Fail, Pass

DEV_RULES = "prometheus/rules.yml"
SWARM_RULES = "prometheus/swarm/rules.yml"
SWARM_TESTS = "prometheus/swarm/rules.test.yml"
_DEV_SCOPE = 'container_label_com_docker_compose_project=\\"vitalyst\\"'

EXAMPLES = (
    Fail(
        "the old dev rule: swarm task names (vitalyst_<service>.<slot>.<task>) on a Compose v2 project, "
        "whose containers are vitalyst-backend-1",
        profile="dev",
        edits=[Edit(DEV_RULES, f"changes(container_start_time_seconds{{{_DEV_SCOPE}}}[15m])",
                    'changes(container_start_time_seconds{name=~\\"vitalyst_.+\\"}[15m])')],
        expect=[Expect(DEV_RULES, 'container_start_time_seconds does not select container_label_com_docker_compose_project="vitalyst", '
                                  "the label compose gives this stack's containers")],
    ),
    Fail(
        "a swarm rule scoped to the project name, while render deploy names the stack vitalyst-prod",
        edits=[Edit(SWARM_RULES, 'container_label_com_docker_stack_namespace=\\"vitalyst-prod\\"',
                    'container_label_com_docker_stack_namespace=\\"vitalyst\\"')],
        expect=[Expect(SWARM_RULES, f'{metric} does not select container_label_com_docker_stack_namespace="vitalyst-prod", '
                                    "the label swarm gives this stack's containers")
                for metric in ("container_start_time_seconds", "container_last_seen")],
    ),
    Fail(
        "a unit test whose container series carry no swarm labels: it proves nothing about a real swarm",
        edits=[Edit(SWARM_TESTS, 'container_label_com_docker_stack_namespace=\\"vitalyst-prod\\", ', "")],
        expect=[Expect(SWARM_TESTS, "unit-test series container_cpu_usage_seconds_total lacks "
                                    "container_label_com_docker_stack_namespace, which swarm containers carry")],
    ),
    Pass("staging: its stack is vitalyst-staging, its namespace vitalyst-staging", profile="staging"),
)


def _scope(ctx: CheckContext, monitoring: MonitoringPlan) -> tuple[str, str]:
    """(label, value) that marks this stack's containers, read off the artefacts where
    they say it: the compose file's project name, the cluster's Namespace object."""
    label, value = monitoring.naming.scope_label, monitoring.naming.project
    if monitoring.platform == "compose" and ctx.compose is not None and isinstance(ctx.compose.data.get("name"), str):
        value = ctx.compose.data["name"]
    if monitoring.platform == "kubernetes":
        value = next((o.name for o in ctx.kube_objects if o.kind == "Namespace"), value)
    return label, value


def _selects(node: Any, label: str, value: str) -> bool:
    return any(m.name == label and str(m.op) == "MatchOp.Equal" and m.value == value for m in node.matchers.matchers)


def _cadvisor(name: str | None) -> bool:
    return bool(name) and str(name).startswith("container_")


def _test_series(tests: Any) -> Iterator[str]:
    for test in (tests or {}).get("tests") or []:
        for series in (test or {}).get("input_series") or []:
            if isinstance((series or {}).get("series"), str):
                yield series["series"]


@check("VR409", "promql-container-scope", "a container alert or its test does not use the platform's real container labels",
       Severity.ERROR, examples=EXAMPLES)
def container_scope(ctx: CheckContext) -> Iterable[Problem]:
    """cAdvisor sees every container on a host. Each platform marks the stack's own
    with a label that cAdvisor copies onto their series: Compose v2 sets
    ``com.docker.compose.project`` (the compose file's ``name``), ``docker stack
    deploy`` sets ``com.docker.stack.namespace`` (the stack render deploy uses,
    ``<project>-<profile>``), and Kubernetes has the ``namespace``. Every cAdvisor
    selector of a platform's rules and dashboard must match that label exactly, or
    it sees other projects' containers (or, like the seed's ``name=~"vitalyst_.+"``
    on a Compose v2 laptop whose containers are ``vitalyst-backend-1``, none at all,
    and its alerts never fire). The promtool unit tests must feed series that carry
    the same label, so they prove the rule against what the platform produces.

    Remediation: rules come from ``vitalyst_render/monitoring.py``; an edited rule or
    test, or a compose ``name`` that differs from ``project.name``, is the cause.
    """
    for files in ctx.monitoring:
        label, value = _scope(ctx, files.plan)
        wanted = f'{label}="{value}"'
        for expression in ctx.promql:
            if expression.monitoring is not files.plan or isinstance(expression.tree, Exception):
                continue
            for node, _ in walk(expression.tree):
                if isinstance(node, pql.VectorSelector) and _cadvisor(node.name) and not _selects(node, label, value):
                    yield Problem(f"{node.name} does not select {wanted}, the label {files.plan.platform} gives this stack's containers",
                                  expression.location, hint="scope every cAdvisor selector to the stack")
                    break
        if files.tests is None:
            continue
        for series in _test_series(files.tests.data):
            tree = _parse_series(series)
            # Another project's containers may stand beside ours; a series without the label is no real container.
            if isinstance(tree, pql.VectorSelector) and _cadvisor(tree.name) and not any(m.name == label for m in tree.matchers.matchers):
                yield Problem(f"unit-test series {tree.name} lacks {label}, which {files.plan.platform} containers carry",
                              ctx.location(files.tests.path), hint="give the scenario the labels the platform produces")
                break


def _parse_series(text: str) -> Any:
    try:
        return pql.parse(text)
    except ValueError:
        return None
