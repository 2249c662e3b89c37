"""What issue 4 promises of the committed staging and prod manifests, read from out/."""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from .conftest import OUT

READER = YAML(typ="safe", pure=True)


def objects(profile: str) -> list[dict]:
    return [d for path in sorted((OUT / profile / "kubernetes").glob("*.yaml")) for d in READER.load_all(path.read_text()) if d]


def named(docs, kind, name=None):
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


@pytest.mark.parametrize("profile", ["staging", "prod"])
def test_complete_stack(profile):
    docs = objects(profile)
    (namespace,) = named(docs, "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert all(d["metadata"].get("namespace") == namespace["metadata"]["name"] for d in docs if d["kind"] != "Namespace")
    (deny,) = named(docs, "NetworkPolicy", "default-deny-all")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert {d["metadata"]["name"] for d in named(docs, "CronJob")} == {"neo4j-backup", "neo4j-dump", "redis-backup"}
    assert {d["spec"]["scaleTargetRef"]["name"].split("-")[0] for d in named(docs, "HorizontalPodAutoscaler")} == {"backend", "frontend"}
    for name in ("neo4j", "redis"):
        (statefulset,) = named(docs, "StatefulSet", name)
        assert statefulset["spec"]["volumeClaimTemplates"]
        (service,) = named(docs, "Service", name)
        assert service["spec"]["clusterIP"] == "None"
    (config,) = named(docs, "ConfigMap", "redis-conf")
    assert config["data"]["redis.conf"] == (OUT / profile / "redis" / "redis.conf").read_text()
    assert not named(docs, "Secret")
    for deployment in named(docs, "Deployment"):
        strategy = deployment["spec"]["strategy"]
        assert strategy == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}


def test_no_policy_admits_any_source_to_backend_or_data_stores():
    for profile in ("staging", "prod"):
        for policy in named(objects(profile), "NetworkPolicy"):
            target = policy["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name")
            if target in ("backend", "neo4j", "redis"):
                for rule in policy["spec"].get("ingress", []):
                    assert rule.get("from"), policy["metadata"]["name"]
                    for peer in rule["from"]:
                        assert peer.get("podSelector", {}).get("matchLabels"), policy["metadata"]["name"]


def test_prod_is_blue_green_and_staging_rolling():
    prod, staging = objects("prod"), objects("staging")
    assert {d["metadata"]["name"] for d in named(prod, "Deployment")} == {"backend-blue", "backend-green", "frontend-blue", "frontend-green"}
    (service,) = named(prod, "Service", "backend")
    assert service["spec"]["selector"]["vitalyst.io/color"] == "blue"
    assert {d["metadata"]["name"] for d in named(staging, "Deployment")} == {"backend", "frontend"}


def test_blue_green_idle_colour_runs_the_next_release(tmp_path):
    import vitalyst_render as vr
    from vitalyst_render.checks.examples import EXAMPLE_DIGESTS
    from vitalyst_render.profile.lock import lock_path, lock_text

    profile = tmp_path / "release.yaml"
    profile.write_text(
        "extends: prod\ndeployment:\n  idle_release:\n    tag: \"1.1.0\"\n    digests:\n"
        f"      backend: sha256:{'ab' * 32}\n      frontend: sha256:{'cd' * 32}\n"
    )
    lock_path(profile).write_text(lock_text(EXAMPLE_DIGESTS))  # prod as it is after render pin
    result = vr.render(vr.load_profile(profile))
    report = vr.check(result)
    assert not report.failed, [f.line() for f in report.findings]
    docs = [d for d in READER.load_all(result.files["kubernetes/backend.yaml"].decode()) if d]
    images = {d["metadata"]["name"]: d["spec"]["template"]["spec"]["containers"][0]["image"] for d in named(docs, "Deployment")}
    assert images["backend-blue"].startswith("ghcr.io/vitalyst/backend:1.0.0@")  # active: the service's image
    assert images["backend-green"] == f"ghcr.io/vitalyst/backend:1.1.0@sha256:{'ab' * 32}"
    (service,) = named(docs, "Service", "backend")
    assert service["spec"]["selector"]["vitalyst.io/color"] == "blue"


def test_ingress_serves_the_domain_over_tls():
    import vitalyst_render as vr

    profile = vr.load_profile("prod").profile
    (ingress,) = named(objects("prod"), "Ingress")
    assert ingress["spec"]["rules"][0]["host"] == profile.environment.domain
    assert ingress["spec"]["tls"] == [{"hosts": [profile.environment.domain], "secretName": "vitalyst-tls"}]


def _containers(docs):
    from vitalyst_render.kube import containers_of, pod_spec

    for document in docs:
        found = pod_spec(document)
        if found is not None:
            for container, _ in containers_of(*found):
                yield document["metadata"]["name"], container


@pytest.mark.parametrize("profile", ["staging", "prod"])
def test_tag_only_images_are_always_pulled(profile):
    # The shipped staging and prod pin nothing: a re-pushed tag must reach every node.
    seen = list(_containers(objects(profile)))
    assert {c["name"] for _, c in seen} >= {"backend", "frontend", "neo4j", "redis", "metrics", "seed", "dump", "rdb"}
    for owner, container in seen:
        assert "@sha256:" not in container["image"], (owner, container["name"])
        assert container.get("imagePullPolicy") == "Always", (owner, container["name"], container["image"])


def test_digest_pinned_images_are_pulled_if_not_present():
    from vitalyst_render.checks.examples import example_rendering

    result = example_rendering("prod", None)  # prod as it is after render pin
    docs = [d for path, text in sorted(result.files.items()) if path.startswith("kubernetes/")
            for d in READER.load_all(text.decode()) if d]
    seen = list(_containers(docs))
    assert len(seen) > 5
    for owner, container in seen:
        assert "@sha256:" in container["image"], (owner, container["name"])
        assert container.get("imagePullPolicy") == "IfNotPresent", (owner, container["name"], container["image"])


@pytest.mark.parametrize("profile", ["staging", "prod"])
def test_secrets_are_projected_files_that_rotation_reaches(profile):
    from vitalyst_render.kube import pod_spec

    seen = set()
    for document in objects(profile):
        found = pod_spec(document)
        if found is None:
            continue
        pod = found[0]
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        assert not any("secret" in v for v in volumes.values()), document["metadata"]["name"]  # only projected ones
        for container in pod.get("initContainers", []) + pod["containers"]:
            for mount in container.get("volumeMounts") or []:
                volume = volumes.get(mount["name"], {})  # data: a volumeClaimTemplate
                if "projected" not in volume:
                    continue
                # A directory, never subPath: kubelet swaps the files in place when a Secret changes.
                assert "subPath" not in mount and mount["mountPath"] == "/run/secrets" and mount["readOnly"] is True
                assert volume["projected"]["defaultMode"] == 0o440
                for source in volume["projected"]["sources"]:
                    (item,) = source["secret"]["items"]
                    assert item["path"] == source["secret"]["name"]  # /run/secrets/<name>, as in compose
                    seen.add((container["name"], source["secret"]["name"]))
    assert {("backend", "neo4j-auth"), ("backend", "redis-app-password"), ("neo4j", "neo4j-auth"), ("redis", "redis-acl"),
            ("redis", "redis-health-password"), ("metrics", "redis-metrics-password"), ("rdb", "redis-backup-password")} == seen
