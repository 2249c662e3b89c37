"""VR301–VR318 and VR902: Kubernetes policy and schema checks.

Each check's PASS and FAIL cases are examples declared with the check (run by
tests/test_registry.py); what stays here asserts what an example cannot: locations,
severities and variants.
"""

from __future__ import annotations

import pytest

from .support import context, kind, mutated, problems

BACKEND = "kubernetes/backend.yaml"
POLICIES = "kubernetes/networkpolicy.yaml"
KUBE_CHECKS = [f"VR3{n:02d}" for n in range(1, 19)] + ["VR902"]


@pytest.mark.parametrize("check_id", KUBE_CHECKS)
@pytest.mark.parametrize("profile", ["staging", "prod"])
def test_committed_manifests_pass(check_id, profile):
    assert problems(check_id, context(profile)) == []


def messages(check_id, ctx):
    return [p.message for p in problems(check_id, ctx)]


def on_backend(change):
    return mutated("staging", BACKEND, change)


def test_vr902_fail_reports_every_error_with_its_line():
    def change(docs):
        deployment = kind(docs, "Deployment")
        deployment["spec"]["replicas"] = "3"
        deployment["spec"]["template"]["spec"]["hostname_typo"] = True
        docs.append({"apiVersion": "example.com/v1", "kind": "Gizmo", "metadata": {"name": "x"}})

    found = problems("VR902", on_backend(change))
    text = " | ".join(p.message for p in found)
    assert "spec.replicas" in text and "hostname_typo" in text
    assert any("no schema for Gizmo example.com/v1" in p.message for p in found)
    assert all(p.location.file == "out/staging/kubernetes/backend.yaml" and p.location.line > 0 for p in found)


def test_vr314_fail_removed_api_versions():
    def change(docs):
        kind(docs, "PodDisruptionBudget")["apiVersion"] = "policy/v1beta1"
        kind(docs, "HorizontalPodAutoscaler")["apiVersion"] = "autoscaling/v1"

    found = problems("VR314", on_backend(change))
    assert [(p.severity.value, "removed in 1.25" in p.message) for p in found if "PodDisruptionBudget" in p.message] == [("error", True)]
    assert any(p.severity.value == "warning" and "autoscaling/v1" in p.message for p in found)


@pytest.mark.parametrize(
    ("peer", "reason"),
    [
        ({"podSelector": {}}, "podSelector: {} admits every pod"),
        ({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}, "without a podSelector"),
        ({"ipBlock": {"cidr": "10.0.0.0/8"}}, "spans a large range"),
    ],
)
def test_vr313_fail_peers_wider_than_named_pods(peer, reason):
    ctx = mutated("staging", POLICIES, lambda docs: kind(docs, "NetworkPolicy", "redis-ingress")["spec"]["ingress"][0].update({"from": [peer]}))
    assert any("redis-ingress" in m and reason in m for m in messages("VR313", ctx))


def test_vr313_seed_rule_points_at_the_rule_and_says_what_to_name():
    ctx = mutated("staging", POLICIES, lambda docs: kind(docs, "NetworkPolicy", "backend-ingress")["spec"]["ingress"].append({"ports": [8000]}))
    [found] = problems("VR313", ctx)
    assert found.message == "NetworkPolicy backend-ingress ingress[2] has no 'from': it admits every peer"
    assert found.hint == "name the allowed peers under from"
    assert found.location.file == f"out/staging/{POLICIES}"
    assert ctx.artefacts[POLICIES].text.split("\n")[found.location.line - 1].strip() == "- ports:"


@pytest.mark.parametrize(("path", "containers"), [
    ("kubernetes/neo4j.yaml", {"seed", "neo4j"}),
    ("kubernetes/redis.yaml", {"redis", "metrics"}),
    ("kubernetes/backups.yaml", {"dump", "window", "rdb"}),
])
def test_vr318_points_at_the_pull_policy_of_every_tag_only_container(path, containers):
    # Init, sidecar and backup containers as well as the services' own: each back on IfNotPresent.
    text = context("staging").artefacts[path].text
    assert "imagePullPolicy: IfNotPresent" not in text
    ctx = context("staging", {path: text.replace("imagePullPolicy: Always", "imagePullPolicy: IfNotPresent")})
    found = problems("VR318", ctx)
    assert {p.message.split("'")[1] for p in found} == containers
    lines = ctx.artefacts[path].text.split("\n")
    for problem in found:
        assert problem.location.file == f"out/staging/{path}"
        assert lines[problem.location.line - 1].strip() == "imagePullPolicy: IfNotPresent"
        assert "re-pushed tag is never pulled" in problem.message and "Always" in (problem.hint or "")
