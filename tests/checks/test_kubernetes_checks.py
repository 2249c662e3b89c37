"""VR301–VR317 and VR902: Kubernetes policy and schema checks, PASS and FAIL each."""

from __future__ import annotations

import pytest

from .support import context, first_container, kind, mutated, problems

BACKEND = "kubernetes/backend.yaml"
REDIS = "kubernetes/redis.yaml"
POLICIES = "kubernetes/networkpolicy.yaml"
KUBE_CHECKS = [f"VR3{n:02d}" for n in range(1, 18)] + ["VR902"]


@pytest.mark.parametrize("check_id", KUBE_CHECKS)
@pytest.mark.parametrize("profile", ["staging", "prod"])
def test_committed_manifests_pass(check_id, profile):
    assert problems(check_id, context(profile)) == []


def messages(check_id, ctx):
    return [p.message for p in problems(check_id, ctx)]


def on_backend(change):
    return mutated("staging", BACKEND, change)


def test_vr902_pass_strict_schema():
    assert problems("VR902", context("prod")) == []


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


def test_vr301_pass():
    assert problems("VR301", context("prod")) == []


def test_vr301_fail_root_and_low_uid():
    def change(docs):
        pod = kind(docs, "Deployment")["spec"]["template"]["spec"]
        pod["securityContext"] = {}
        pod["containers"][0]["securityContext"]["runAsUser"] = 1000
        del pod["containers"][0]["securityContext"]["runAsNonRoot"]

    found = messages("VR301", on_backend(change))
    assert any("runAsNonRoot" in m for m in found) and any("runAsUser 1000" in m for m in found)


def container_problem(check_id, change):
    ctx = on_backend(lambda docs: change(first_container(docs)["securityContext"]))
    return [m for m in messages(check_id, ctx) if "'backend'" in m]


def test_vr302_fail_writable_root():
    assert any("writable root filesystem" in m for m in container_problem("VR302", lambda sc: sc.update(readOnlyRootFilesystem=False)))


@pytest.mark.parametrize(
    ("change", "message"),
    [(lambda sc: sc.pop("allowPrivilegeEscalation"), "allows privilege escalation"), (lambda sc: sc.update(privileged=True), "is privileged")],
)
def test_vr303_fail(change, message):
    assert any(message in m for m in container_problem("VR303", change))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda sc: sc.update(capabilities={"drop": ["NET_RAW"]}), "does not drop ALL"),
        (lambda sc: sc.update(capabilities={"drop": ["ALL"], "add": ["NET_ADMIN"]}), "adds capabilities"),
    ],
)
def test_vr304_fail(change, message):
    assert any(message in m for m in container_problem("VR304", change))


def test_vr305_fail_unconfined():
    assert any("seccomp profile Unconfined" in m for m in container_problem("VR305", lambda sc: sc.update(seccompProfile={"type": "Unconfined"})))


def test_vr302_pass():
    assert problems("VR302", context("staging")) == []


def test_vr303_pass():
    assert problems("VR303", context("staging")) == []


def test_vr304_pass():
    assert problems("VR304", context("staging")) == []


def test_vr305_pass_pod_level_profile_counts():
    ctx = on_backend(lambda docs: first_container(docs)["securityContext"].pop("seccompProfile"))
    assert problems("VR305", ctx) == []


def test_vr305_fail_covers_init_containers():
    ctx = mutated("staging", "kubernetes/neo4j.yaml", lambda docs: kind(docs, "StatefulSet")["spec"]["template"]["spec"].update(securityContext={}) or
                  kind(docs, "StatefulSet")["spec"]["template"]["spec"]["initContainers"][0]["securityContext"].pop("seccompProfile"))
    assert any("'seed'" in m for m in messages("VR305", ctx))


def test_vr306_pass():
    assert problems("VR306", context("prod")) == []


def test_vr306_fail_host_namespaces_paths_and_ports():
    def change(docs):
        pod = kind(docs, "Deployment")["spec"]["template"]["spec"]
        pod["hostNetwork"] = True
        pod["volumes"].append({"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}})
        pod["containers"][0]["ports"][0]["hostPort"] = 8000

    found = messages("VR306", on_backend(change))
    assert len(found) == 3 and any("hostNetwork" in m for m in found) and any("docker.sock" in m for m in found)


def test_vr307_pass():
    assert problems("VR307", context("prod")) == []


def test_vr307_fail_latest_and_unpinned_in_prod():
    staging = messages("VR307", on_backend(lambda docs: first_container(docs).update(image="ghcr.io/vitalyst/backend:latest")))
    assert any("latest" in m for m in staging)
    prod = messages("VR307", mutated("prod", REDIS, lambda docs: kind(docs, "StatefulSet")["spec"]["template"]["spec"]["containers"][0].update(image="redis:7.0.15")))
    assert any("not pinned by digest in prod" in m for m in prod)


def test_vr308_pass():
    assert problems("VR308", context("staging")) == []


def test_vr308_fail_missing_probes():
    found = messages("VR308", on_backend(lambda docs: first_container(docs).pop("startupProbe") and first_container(docs).pop("readinessProbe")))
    assert sorted(found) == ["Deployment backend container 'backend' has no readinessProbe", "Deployment backend container 'backend' has no startupProbe"]


def test_vr309_pass():
    assert problems("VR309", context("staging")) == []


def test_vr309_fail_probe_port_not_exposed():
    found = messages("VR309", on_backend(lambda docs: first_container(docs)["livenessProbe"]["httpGet"].update(port=9000)))
    assert found == ["Deployment backend container 'backend' livenessProbe targets port 9000, which it does not expose"]


def test_vr310_pass():
    assert problems("VR310", context("prod")) == []


def test_vr310_fail_selector_and_target_port():
    def change(docs):
        service = kind(docs, "Service")
        service["spec"]["selector"]["app.kubernetes.io/name"] = "backnd"

    assert any("no pod carries" in m for m in messages("VR310", on_backend(change)))
    wrong_port = on_backend(lambda docs: kind(docs, "Service")["spec"]["ports"][0].update(targetPort="web"))
    assert any("targets port 'web'" in m for m in messages("VR310", wrong_port))


def test_vr310_fail_blue_green_active_colour_without_pods():
    ctx = mutated("prod", BACKEND, lambda docs: kind(docs, "Service")["spec"]["selector"].update({"vitalyst.io/color": "purple"}))
    assert any("no pod carries" in m for m in messages("VR310", ctx))


def test_vr311_pass():
    assert problems("VR311", context("prod")) == []


def test_vr311_fail_missing_pdb_and_hpa():
    def change(docs):
        docs[:] = [d for d in docs if d["kind"] not in ("PodDisruptionBudget", "HorizontalPodAutoscaler")]

    found = sorted(messages("VR311", on_backend(change)))
    assert found == [
        "Deployment backend has no PodDisruptionBudget",
        "Deployment backend leaves its replica count to a HorizontalPodAutoscaler that does not exist",
    ]
    pinned = on_backend(lambda docs: change(docs) or kind(docs, "Deployment")["spec"].update(replicas=2))
    assert "Deployment backend has 2 replicas and no HorizontalPodAutoscaler" in messages("VR311", pinned)


def test_vr310_fail_selector_not_on_own_template():
    ctx = on_backend(lambda docs: kind(docs, "Deployment")["spec"]["selector"]["matchLabels"].update({"tier": "api"}))
    assert any("which its own pod template does not carry" in m for m in messages("VR310", ctx))


def test_vr312_pass():
    assert problems("VR312", context("prod")) == []


def test_vr312_fail_missing_memory_limit():
    found = messages("VR312", on_backend(lambda docs: first_container(docs)["resources"]["limits"].pop("memory")))
    assert found == ["Deployment backend container 'backend' has no memory limit"]


def test_vr313_pass():
    assert problems("VR313", context("prod")) == []


def test_vr313_fail_seed_policy_opens_8000_to_everyone():
    def change(docs):
        policy = kind(docs, "NetworkPolicy", "backend-ingress")
        policy["spec"]["ingress"].append({"ports": [{"protocol": "TCP", "port": 8000}]})

    found = messages("VR313", mutated("staging", POLICIES, change))
    assert any("has no 'from': it admits every peer" in m for m in found)


def test_vr313_fail_no_default_deny_and_open_peer():
    def change(docs):
        docs[:] = [d for d in docs if d["metadata"]["name"] != "default-deny-all"]
        kind(docs, "NetworkPolicy", "redis-ingress")["spec"]["ingress"][0]["from"] = [{"namespaceSelector": {}}]

    found = messages("VR313", mutated("staging", POLICIES, change))
    assert any("no default-deny" in m for m in found)
    assert any("redis-ingress" in m and "without a podSelector" in m for m in found)


def test_vr314_pass():
    assert problems("VR314", context("prod")) == []


def test_vr314_fail_removed_api_versions():
    def change(docs):
        kind(docs, "PodDisruptionBudget")["apiVersion"] = "policy/v1beta1"
        kind(docs, "HorizontalPodAutoscaler")["apiVersion"] = "autoscaling/v1"

    found = problems("VR314", on_backend(change))
    assert [(p.severity.value, "removed in 1.25" in p.message) for p in found if "PodDisruptionBudget" in p.message] == [("error", True)]
    assert any(p.severity.value == "warning" and "autoscaling/v1" in p.message for p in found)


def test_vr315_pass():
    assert problems("VR315", context("prod")) == []


def test_vr315_fail_secret_data_and_undeclared_reference():
    def change(docs):
        docs.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "vitalyst-staging"}, "stringData": {"password": "hunter2"}})
        first_container(docs)["env"].append({"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}})

    found = messages("VR315", on_backend(change))
    assert "Secret db carries data in the manifest" in found
    assert "Deployment backend uses Secret 'db', which the profile does not declare" in found


def test_vr316_pass():
    assert problems("VR316", context("prod")) == []


def test_vr316_fail_default_namespace_and_weak_pod_security():
    backend = on_backend(lambda docs: kind(docs, "Deployment")["metadata"].pop("namespace"))
    assert any("namespace None" in m for m in messages("VR316", backend))
    namespace = mutated("staging", "kubernetes/namespace.yaml",
                        lambda docs: docs[0]["metadata"]["labels"].update({"pod-security.kubernetes.io/enforce": "privileged"}))
    assert any("enforces Pod Security 'privileged'" in m for m in messages("VR316", namespace))


def test_vr317_pass():
    assert problems("VR317", context("prod")) == []


def test_vr317_fail_default_account_with_token():
    def change(docs):
        pod = kind(docs, "Deployment")["spec"]["template"]["spec"]
        del pod["serviceAccountName"]
        del pod["automountServiceAccountToken"]

    found = sorted(messages("VR317", on_backend(change)))
    assert found == ["Deployment backend mounts a service account token", "Deployment backend runs under the default service account"]


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


def test_vr313_fail_portless_egress_and_missing_dns():
    def change(docs):
        docs[:] = [d for d in docs if d["metadata"]["name"] != "allow-dns-egress"]
        kind(docs, "NetworkPolicy", "backend-egress")["spec"]["egress"][0].pop("ports")

    found = messages("VR313", mutated("staging", POLICIES, change))
    assert any("backend-egress egress[0] allows every port" in m for m in found)
    assert any("nothing can resolve names" in m for m in found)


def test_vr313_pass_internet_egress_only_on_declared_ports():
    assert problems("VR313", context("prod")) == []
    def widen(docs):
        kind(docs, "NetworkPolicy", "backend-egress")["spec"]["egress"][-1]["ports"].append({"protocol": "TCP", "port": 22})
    assert any("spans a large range" in m for m in messages("VR313", mutated("prod", POLICIES, widen)))


def test_vr310_fail_ingress_to_missing_service_or_port():
    ctx = mutated("prod", "kubernetes/ingress.yaml", lambda docs: docs[0]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"].update(name="web"))
    assert messages("VR310", ctx) == ["Ingress vitalyst sends traffic to Service 'web', which is not rendered"]
    ctx = mutated("prod", "kubernetes/ingress.yaml", lambda docs: docs[0]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"].update(port={"number": 80}))
    assert any("which has no such port" in m for m in messages("VR310", ctx))
