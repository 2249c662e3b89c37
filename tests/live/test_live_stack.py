"""The rendered swarm stack on a real engine: every property tried, not read.

The failed-release test changes the stack, so it runs last in this file.
"""

from __future__ import annotations

import pytest

from vitalyst_render.testbed import probes

from .conftest import STACK, live_profile

pytestmark = pytest.mark.live


def test_stack_file_deploys_with_each_cli(live):
    versions = [version for version, _ in live.deploys]
    assert versions[0].startswith("20.10"), versions
    for version, stderr in live.deploys:
        # security_opt is the one key swarm ignores, documented in the stack's header.
        ignored = [line for line in stderr.splitlines() if line.startswith("Ignoring")]
        assert ignored == ["Ignoring unsupported options: security_opt"], (version, stderr)


def test_every_service_turns_healthy_within_its_start_period(live):
    running = live.running()
    assert probes.health_violations(live.plan, live.healthy_after, running) == []
    assert {name: len(listed) for name, listed in running.items()} == {
        name: workload.replicas for name, workload in probes.workloads(live.plan).items()
    }


def test_hardening_holds_in_every_container(live):
    assert probes.join(probes.hardening_violations(live.testbed, live.running(), live.plan)) == ""


def test_secrets_are_owner_only_files_and_leak_nowhere(live):
    violations = probes.secret_violations(live.testbed, STACK, live.running(), live.plan, live.secret_values)
    assert probes.join(violations) == ""


def test_network_reachability_is_exactly_the_planned_edges(live):
    reached = probes.reachability(live.testbed, live.running(), live.plan)
    assert probes.join(probes.isolation_violations(reached, live.plan)) == ""
    assert ("backend", "neo4j") in reached and ("frontend", "neo4j") not in reached


def test_redis_acl_lets_each_user_do_only_its_job(live):
    redis = live.running()["redis"][0]
    violations = probes.redis_violations(live.testbed, redis, 6379, live.passwords["healthcheck"], live.passwords["app"])
    assert probes.join(violations) == ""


def test_a_release_that_fails_its_health_check_rolls_back_without_a_failed_request(live, broken_backend):
    folder = live.render(live_profile(live.standins, {**live.apps, "backend": broken_backend}), name="live-broken")

    # The frontend calls the backend through the stack network all through the update. By
    # tasks.backend: this kernel has no IPVS, so service VIPs do not route here; swarm's DNS
    # lists a task only once it is healthy, the same set the VIP balances over.
    before = probes.update_status(live.testbed, f"{STACK}_backend")
    with probes.Poller(live.testbed, live.running()["frontend"][0], "http://tasks.backend:8000/health") as poller:
        live.deploy(folder / "compose" / "docker-compose.yml")
        state = probes.wait_update(live.testbed, f"{STACK}_backend", before, timeout=240)
    assert state == "rollback_completed"
    assert poller.failures == [], poller.failures[:5]
    assert poller.successes >= 20
    images = [live.testbed.docker("inspect", "--format", "{{.Config.Image}}", c.id).stdout for c in live.running()["backend"]]
    assert images and all(live.apps["backend"].digest in image for image in images), images
