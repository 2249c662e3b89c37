"""Issue 12.3: the Neo4j backup works unattended, or the profile says why there is none.

Neo4j Community 5 has no online backup: ``neo4j-admin database dump`` needs the
database stopped, and its data volume is ReadWriteOnce. The shipped cluster profiles
choose a maintenance window: a scheduled pod scales the StatefulSet to 0, waits for its
pod to go, runs the dump as a Job made from a suspended CronJob, and scales back under
a trap. These tests read the committed manifests and run the rendered window script
for real (bash) against a double of kubectl, date and sleep.
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

import vitalyst_render as vr
from vitalyst_render.errors import ProfileError

from .checks.support import overlay
from .conftest import OUT, REPO

READER = YAML(typ="safe", pure=True)
DOUBLE = REPO / "tests" / "window_double.py"
NONE_OVERLAY = (
    "extends: staging\nservices:\n  neo4j:\n    backup:\n      method: none\n"
    "      reason: the graph is rebuilt from the source systems every night\n"
)


def objects(profile: str) -> list[dict]:
    return [d for path in sorted((OUT / profile / "kubernetes").glob("*.yaml")) for d in READER.load_all(path.read_text()) if d]


def named(docs: list[dict], kind: str, name: str | None = None) -> list[dict]:
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def pod_of(doc: dict) -> dict:
    spec = doc["spec"]["jobTemplate"]["spec"] if doc["kind"] == "CronJob" else doc["spec"]
    return spec["template"]["spec"]


def claims(pod: dict) -> set[str]:
    return {v["persistentVolumeClaim"]["claimName"] for v in pod.get("volumes", []) if "persistentVolumeClaim" in v}


SHORT_WINDOW = "extends: staging\nservices:\n  neo4j:\n    backup:\n      window: 10m\n"


def window_script(profile: str = "staging") -> str:
    """The window's script as Kubernetes runs it, from out/ (or from a profile overlay)."""
    if profile == "short":
        docs = [d for d in READER.load_all(overlay(SHORT_WINDOW).artefacts["kubernetes/backups.yaml"].text) if d]
    else:
        docs = objects(profile)
    (window,) = named(docs, "CronJob", "neo4j-backup")
    command = pod_of(window)["containers"][0]["command"]
    assert command[:2] == ["bash", "-c"]
    return command[2].replace("$$", "$")  # Kubernetes' own escape of $ in a command


@pytest.mark.parametrize("profile", ["staging", "prod"])
def test_only_a_job_made_from_the_suspended_dump_cronjob_mounts_the_live_data_claim(profile):
    docs = objects(profile)
    mounting = [(d["kind"], d["metadata"]["name"]) for d in docs
                if d["kind"] in ("CronJob", "Job", "Deployment", "Pod") and "data-neo4j-0" in claims(pod_of(d))]
    # The StatefulSet holds its claim through volumeClaimTemplates; nothing scheduled mounts it.
    assert mounting == [("CronJob", "neo4j-dump")]
    (dump,) = named(docs, "CronJob", "neo4j-dump")
    assert dump["spec"]["suspend"] is True
    assert claims(pod_of(dump)) == {"data-neo4j-0", "backups-neo4j"}
    assert "neo4j-admin database dump neo4j" in pod_of(dump)["containers"][0]["command"][2]
    (window,) = named(docs, "CronJob", "neo4j-backup")
    assert window["spec"].get("suspend") is not True and window["spec"]["schedule"] == "15 2 * * *"
    assert claims(pod_of(window)) == set()
    assert window["spec"]["jobTemplate"]["spec"]["backoffLimit"] == 0  # a retry would remember 0 replicas


def test_the_window_script_scales_down_waits_dumps_then_scales_back():
    script = window_script()
    order = [script.index(step) for step in (
        "trap ",
        'scale "statefulset/$statefulset" --current-replicas="$replicas" --replicas=0',
        'get pods --selector "$selector"',
        'create job "$job" --from=cronjob/neo4j-dump',
        'scale "statefulset/$statefulset" --replicas="$replicas"',
    )]
    assert order[0] < order[1] < order[2] < order[3]
    assert order[4] < order[1]  # the scale-back lives in the trap, set up before the scale-down


def run_window(tmp_path: Path, profile: str = "staging", **state) -> tuple[int, list[list[str]], dict, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for program in ("kubectl", "date", "sleep"):
        wrapper = bin_dir / program
        wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} {DOUBLE} "$0" "$@"\n')
        wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    state_file, log = tmp_path / "state.json", tmp_path / "log.jsonl"
    state_file.write_text(json.dumps({"clock": 1_000_000, "replicas": 1, "pod_lag": 40, **state}))
    log.write_text("")
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "WINDOW_DOUBLE_STATE": str(state_file), "WINDOW_DOUBLE_LOG": str(log), "HOME": str(tmp_path)}
    done = subprocess.run(["bash", "-c", window_script(profile)], env=env, capture_output=True, text=True, timeout=60)
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    return done.returncode, [c[1:] for c in calls if c[0] == "kubectl"], json.loads(state_file.read_text()), done.stderr


def verbs(calls: list[list[str]]) -> list[str]:
    """Each kubectl call as 'verb target', without the namespace and timeout options."""
    shown = []
    for call in calls:
        words = [w for w in call if not w.startswith("--request-timeout")]
        if words[:1] == ["--namespace"]:
            words = words[2:]
        extra = [w for w in words[2:] if w.startswith(("--replicas", "--current-replicas", "--from"))]
        shown.append(" ".join(words[:2] + extra))
    return shown


def squeeze(seq: list[str]) -> list[str]:
    return [s for i, s in enumerate(seq) if i == 0 or seq[i - 1] != s]


def test_a_good_night_scales_to_zero_waits_for_the_pod_dumps_and_scales_back(tmp_path):
    code, calls, state, err = run_window(tmp_path, replicas=1, dump_seconds=120)
    assert code == 0, err
    assert squeeze(verbs(calls)) == [
        "get statefulset/neo4j",
        "scale statefulset/neo4j --current-replicas=1 --replicas=0",
        "get pods",  # polled until the pod is gone (40 s in the double)
        "create job --from=cronjob/neo4j-dump",
        "get job/neo4j-backup-20260101021500",  # polled until Complete
        "scale statefulset/neo4j --replicas=1",
    ]
    assert verbs(calls).count("get pods") >= 2 and verbs(calls).count("get job/neo4j-backup-20260101021500") >= 2  # it did wait
    assert state["replicas"] == 1


def test_a_failed_dump_still_scales_back_to_the_count_it_found_and_fails_the_job(tmp_path):
    code, calls, state, err = run_window(tmp_path, replicas=2, dump_outcome="Failed")
    assert code != 0
    assert "dump neo4j-backup-20260101021500 failed" in err
    assert verbs(calls)[-1] == "scale statefulset/neo4j --replicas=2" and state["replicas"] == 2


def test_a_dump_past_the_window_is_deleted_and_its_pod_gone_before_neo4j_returns(tmp_path):
    code, calls, state, err = run_window(tmp_path, "short", dump_outcome="never")
    assert code != 0 and "did not finish within the window (10m)" in err
    shown = verbs(calls)
    deleted = shown.index("delete job/neo4j-backup-20260101021500")
    assert "get pods" in shown[deleted:]  # waited for the dump's pod to terminate
    assert shown[-1] == "scale statefulset/neo4j --replicas=1" and state["replicas"] == 1
    assert state["job"]["deleted"] and state["clock"] - 1_000_000 >= 600


def test_a_database_already_at_zero_is_left_alone(tmp_path):
    code, calls, state, err = run_window(tmp_path, replicas=0)
    assert code != 0 and "already" in err
    assert verbs(calls) == ["get statefulset/neo4j"] and state["replicas"] == 0


def test_a_pod_that_never_goes_scales_back_without_dumping(tmp_path):
    code, calls, state, err = run_window(tmp_path, "short", pod_lag=10**9)
    assert code != 0 and "did not stop within the window (10m)" in err
    assert not any(v.startswith("create job") for v in verbs(calls))
    assert verbs(calls)[-1] == "scale statefulset/neo4j --replicas=1" and state["replicas"] == 1


@pytest.mark.parametrize("profile", ["staging", "prod"])
def test_the_window_may_only_scale_this_statefulset_and_run_its_dump(profile):
    docs = objects(profile)
    (role,) = named(docs, "Role")
    assert role["metadata"]["name"] == "neo4j-backup"
    rules = {(tuple(r["apiGroups"]), tuple(r["resources"]), tuple(r.get("resourceNames", ())), tuple(r["verbs"])) for r in role["rules"]}
    assert rules == {
        (("apps",), ("statefulsets",), ("neo4j",), ("get",)),
        (("apps",), ("statefulsets/scale",), ("neo4j",), ("get", "patch")),
        (("",), ("pods",), (), ("get", "list")),
        (("batch",), ("cronjobs",), ("neo4j-dump",), ("get",)),
        (("batch",), ("jobs",), (), ("create", "get", "delete")),
    }
    (binding,) = named(docs, "RoleBinding")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "neo4j-backup"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "neo4j-backup", "namespace": role["metadata"]["namespace"]}]
    assert not named(docs, "ClusterRole") and not named(docs, "ClusterRoleBinding")
    with_token = [d["metadata"]["name"] for d in docs if d["kind"] in ("CronJob", "Deployment", "StatefulSet")
                  if pod_of(d).get("automountServiceAccountToken") is not False]
    assert with_token == ["neo4j-backup"]
    assert pod_of(named(docs, "CronJob", "neo4j-backup")[0])["serviceAccountName"] == "neo4j-backup"
    (egress,) = named(docs, "NetworkPolicy", "neo4j-backup-egress")
    assert egress["spec"]["egress"] == [{
        "to": [{"ipBlock": {"cidr": cidr}} for cidr in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")],
        "ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 6443}],
    }]


def test_method_none_renders_no_neo4j_job_and_says_why_in_every_report():
    result = overlay(NONE_OVERLAY)
    files = result.artefacts
    text = files["kubernetes/backups.yaml"].text
    assert "neo4j-backup" not in text and "neo4j-dump" not in text and "backups-neo4j" not in text
    assert "redis-backup" in text
    assert "Neo4jBackupWindowStuck" not in files["prometheus/rules.yml"].text
    report = vr.check(result)
    (finding,) = [f for f in report.findings if f.check_id == "VR612"]
    assert finding.severity.value == "warning"
    assert "the graph is rebuilt from the source systems every night" in finding.message
    assert "RPO unbounded" in files["docs/RUNBOOK.md"].text
    assert not [f for f in report.findings if f.severity.value == "error"]


@pytest.mark.parametrize("backup, problem", [
    ("      method: none\n", "reason"),
    ("      method: maintenance-window\n      kubectl_image: null\n", "kubectl_image"),
    ("      method: sometimes\n", "method"),
])
def test_a_backup_decision_must_be_complete(profile_file, backup, problem):
    path = profile_file(f"extends: staging\nservices:\n  neo4j:\n    backup:\n{backup}")
    with pytest.raises(ProfileError) as raised:
        vr.load_profile(path)
    assert problem in str(raised.value)


def test_the_stuck_window_alert_waits_out_the_window_and_names_the_statefulset():
    rules = READER.load((OUT / "staging" / "prometheus" / "rules.yml").read_text())
    (alert,) = [r for g in rules["groups"] for r in g["rules"] if r.get("alert") == "Neo4jBackupWindowStuck"]
    assert alert["expr"] == 'kube_statefulset_replicas{namespace="vitalyst-staging", statefulset="neo4j"} == 0'
    assert alert["for"] == "75m" and alert["labels"]["severity"] == "critical"
    tests = READER.load((OUT / "staging" / "prometheus" / "rules.test.yml").read_text())
    cases = [t for t in tests["tests"] if t["alert_rule_test"][0]["alertname"] == "Neo4jBackupWindowStuck"]
    assert [bool(c["alert_rule_test"][0]["exp_alerts"]) for c in cases] == [True, False]
