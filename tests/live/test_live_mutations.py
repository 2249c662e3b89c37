"""Each live probe fails on a stack that breaks its property.

One mutated copy of the rendered stack file runs beside the live stack, each mutation on
its own service, and every probe is run against it with the live plan: the probe must
name exactly the property that was broken. Without this, a probe that sees nothing
would pass the live tests too.
"""

from __future__ import annotations

import json

import pytest
from ruamel.yaml import YAML

from vitalyst_render.testbed import probes

from .conftest import STACK

pytestmark = pytest.mark.live

MUTANT = "vitalyst-mutant"
ACL_SECRET = "redis-acl-mutant"


def mutate(stack: dict) -> dict:
    services = stack["services"]
    services["frontend"].pop("ports")  # the live stack holds the ingress port already
    # Writable root where the plan says read-only.
    services["backend"]["read_only"] = False
    # The seed's scratch path: a service tmpfs key, which stack deploy drops silently.
    services["frontend"].pop("volumes")
    services["frontend"]["tmpfs"] = ["/tmp"]
    # Root, with the default capability set.
    services["redis-exporter"]["user"] = "0:0"
    services["redis-exporter"].pop("cap_drop")
    # Secrets with swarm's defaults (root-owned, 0444), and one value in the environment.
    for mount in services["redis"]["secrets"]:
        for key in ("uid", "gid", "mode"):
            mount.pop(key)
    services["backend"]["environment"]["LEAKED"] = "{neo4j-auth}"
    services["backend"]["environment"]["REDIS_PASSWORD_FILE"] = "/run/secrets/redis-password"  # not mounted
    # A network the plan has no edge for.
    services["frontend"]["networks"].append("backend-to-neo4j")
    # A Redis ACL that lets the healthcheck user do everything.
    for mount in services["redis"]["secrets"]:
        if mount["source"] == "redis-acl":
            mount["source"] = ACL_SECRET
    stack["secrets"][ACL_SECRET] = {"external": True}
    # A first health check long after the start period.
    services["neo4j"]["healthcheck"]["interval"] = "30s"
    return stack


@pytest.fixture(scope="module")
def mutant(live):
    stack = YAML(typ="safe", pure=True).load(live.stack_file.read_text())
    text = json.dumps(mutate(stack)).replace("{neo4j-auth}", live.secret_values["neo4j-auth"])
    path = live.stack_file.with_name("mutant.yml")  # beside the original: its relative config path still resolves
    path.write_text(text)
    acl = "\n".join(
        line.replace("resetchannels +ping", "resetchannels ~* &* +@all") if line.startswith("user healthcheck ") else line
        for line in live.acl.splitlines()
    )
    live.testbed.docker("secret", "create", ACL_SECRET, "-", input=acl + "\n")
    live.deploy(path, stack=MUTANT)
    healthy_after, waiting = probes.watch_health(live.testbed, MUTANT, live.plan, timeout=90)
    assert waiting == []  # every mutant runs and turns healthy: only the probes can tell
    yield healthy_after
    live.testbed.docker("stack", "rm", MUTANT, check=False)
    probes.wait_gone(live.testbed, MUTANT, timeout=60)
    live.testbed.docker("secret", "rm", ACL_SECRET, check=False)


def test_health_probe_sees_a_late_first_check(live, mutant):
    violations = probes.health_violations(live.plan, mutant, live.running(MUTANT))
    assert len(violations) == 1 and violations[0].startswith("neo4j: healthy after"), violations
    assert violations[0].endswith("beyond its start period of 20s")


def test_hardening_probe_sees_each_broken_setting(live, mutant):
    violations = probes.hardening_violations(live.testbed, live.running(MUTANT), live.plan)
    # The capability masks are the engine's default set, whatever it is in this version.
    assert [v.split(" is ")[0] if "Cap" in v else v for v in violations] == [
        "backend: root filesystem is not read-only (writable, but not by this user)",
        "frontend: scratch path /tmp is not writable by uid 10001",
        "redis-exporter: runs as uid 0 0 0 0, planned 10001",
        "redis-exporter: runs as gid 0 0 0 0, planned 10001",
        "redis-exporter: CapPrm",
        "redis-exporter: CapEff",
        "redis-exporter: CapBnd",
    ]


def test_secret_probe_sees_loose_files_and_a_leaked_value(live, mutant):
    violations = probes.secret_violations(live.testbed, MUTANT, live.running(MUTANT), live.plan, live.secret_values)
    assert violations == [
        "backend: REDIS_PASSWORD_FILE names /run/secrets/redis-password, which the service's user cannot read",
        "backend: the value of secret neo4j-auth appears in docker inspect",
        "backend: the value of secret neo4j-auth appears in /proc/*/environ",
        "redis: secret /run/secrets/redis-health-password has mode/owner 444 0 0, expected 400 999 999",
        "redis: secret /run/secrets/redis-acl has mode/owner 444 0 0, expected 400 999 999",
    ]


def test_isolation_probe_sees_an_unplanned_network(live, mutant):
    reached = probes.reachability(live.testbed, live.running(MUTANT), live.plan)
    assert probes.isolation_violations(reached, live.plan) == [
        "frontend reaches neo4j with no planned edge",
        "neo4j reaches frontend with no planned edge",
    ]


def test_redis_probe_sees_a_permissive_acl(live, mutant):
    redis = live.running(MUTANT)["redis"][0]
    violations = probes.redis_violations(live.testbed, redis, 6379, live.passwords["healthcheck"], live.passwords["app"])
    assert [v.split(" answered")[0] for v in violations] == ["redis: healthcheck GET"]


def test_hardening_probe_sees_no_new_privileges_off(live):
    """Swarm takes no-new-privileges from the engine, so this mutant is a plain container
    that turns it off, labelled as a stack's backend task."""
    backend = live.apps["backend"].reference
    labels = ["--label", "com.docker.stack.namespace=vitalyst-nnp", "--label", "com.docker.swarm.service.name=vitalyst-nnp_backend"]
    container = live.testbed.docker(
        "run", "--detach", *labels, "--security-opt", "no-new-privileges=false", "--user", "10001:10001",
        "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", backend,
    ).stdout.strip()
    try:
        running = probes.containers(live.testbed, "vitalyst-nnp", live.plan)
        assert probes.hardening_violations(live.testbed, running, live.plan) == ["backend: no_new_privs is not set"]
    finally:
        live.testbed.docker("rm", "--force", "--volumes", container)


def test_update_probe_sees_a_release_that_is_not_rolled_back(live, mutant, broken_backend):
    """With failure_action: pause (swarm's default) a failed release stops half-way instead."""
    stack = json.loads(live.stack_file.with_name("mutant.yml").read_text())
    stack["services"]["backend"]["deploy"]["update_config"]["failure_action"] = "pause"
    stack["services"]["backend"]["image"] = broken_backend.reference
    path = live.stack_file.with_name("mutant-broken.yml")
    path.write_text(json.dumps(stack))
    before = probes.update_status(live.testbed, f"{MUTANT}_backend")
    live.deploy(path, stack=MUTANT)
    assert probes.wait_update(live.testbed, f"{MUTANT}_backend", before, timeout=240) == "paused"


def test_live_stack_is_untouched_by_the_mutant(live, mutant):
    assert probes.hardening_violations(live.testbed, live.running(STACK), live.plan) == []
