"""VR501–VR504 (our redis.conf validator) and VR907 (a real redis-server), PASS and FAIL."""

from __future__ import annotations

import pytest

from ..conftest import require_tool
from .support import context, problems, rendered

CONF = "redis/redis.conf"


def conf(profile: str = "prod", replace: tuple[str, str] | None = None, append: str = "") -> str:
    text = rendered(profile).files[CONF].decode()
    if replace:
        assert replace[0] in text
        text = text.replace(*replace)
    return text + append


def found(check_id: str, text: str, profile: str = "prod") -> list[str]:
    return [p.message for p in problems(check_id, context(profile, {CONF: text}))]


@pytest.mark.parametrize("check_id", ["VR501", "VR502", "VR503", "VR504"])
@pytest.mark.parametrize("profile", ["dev", "staging", "prod"])
def test_committed_configs_pass(check_id, profile):
    assert problems(check_id, context(profile)) == []


def test_vr501_pass():
    assert found("VR501", conf()) == []


def test_vr501_fail_typo_count_and_quoting():
    assert found("VR501", conf(append="maxmemmory 1gb\n")) == ["unknown directive 'maxmemmory'"]
    assert found("VR501", conf(append="port\n")) == ["port takes 1 argument(s), got 0"]
    assert found("VR501", conf(append='logfile "unterminated\n')) == ["unbalanced double quote"]


def test_vr502_pass():
    assert found("VR502", conf("dev")) == []


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (("maxmemory 751619276", "maxmemory 1Gi"), "maxmemory must be a size"),
        (("appendfsync everysec", "appendfsync sometimes"), "appendfsync must be one of"),
        (("port 6379", "port 70000"), "port must be an integer from 0 to 65535"),
        (("save 900 1", "save 900"), "save takes pairs"),
    ],
)
def test_vr502_fail(replace, message):
    assert any(message in m for m in found("VR502", conf(replace=replace)))


def test_vr503_pass():
    assert found("VR503", conf()) == []  # three save lines are fine


def test_vr503_fail_second_maxmemory():
    (problem,) = problems("VR503", context("prod", {CONF: conf(append="maxmemory 1gb\n")}))
    assert problem.message.startswith("maxmemory is set again") and problem.related


def test_vr504_pass():
    assert found("VR504", conf()) == []


def test_vr504_fail_open_server_and_requirepass():
    text = conf(replace=("protected-mode yes", "protected-mode no")).replace("aclfile /run/secrets/redis-acl\n", "") + "requirepass hunter2\n"
    messages = found("VR504", text)
    assert "requirepass puts a password in redis.conf" in messages
    assert "Redis listens beyond loopback without an ACL file" in messages
    assert "protected-mode is off on a non-loopback bind" in messages


@pytest.fixture
def redis_server():
    return require_tool("redis-server")


@pytest.mark.parametrize("profile", ["dev", "staging", "prod"])
def test_vr907_pass_boots_with_settings_and_acls(redis_server, profile):
    assert problems("VR907", context(profile)) == []


def test_vr907_fail_bad_policy_does_not_boot(redis_server):
    (problem,) = problems("VR907", context("prod", {CONF: conf(replace=("maxmemory-policy allkeys-lru", "maxmemory-policy allkeys-lru-ish"))}))
    assert "did not start" in problem.message and "maxmemory-policy" in problem.message


def test_vr907_fail_settings_drift(redis_server):
    # Redis applies the last maxmemory: the server runs with other settings than we meant.
    text = conf(append="maxmemory 100mb\n")
    assert any("CONFIG GET maxmemory returned '104857600'" in m for m in found("VR907", text))


def test_vr907_fail_app_user_may_flush(redis_server):
    template = rendered("prod").files["redis/redis.users.acl.template"].decode()
    lines = [("user app on #<sha256 of app's password> resetchannels ~* +@all" if line.startswith("user app ") else line)
             for line in template.split("\n")]
    found = [p.message for p in problems("VR907", context("prod", {"redis/redis.users.acl.template": "\n".join(lines)}))]
    assert "the app user may run FLUSHALL; it must be denied" in found


def test_vr907_boots_every_redis_of_the_stack(redis_server):
    # The cache's config and ACL template are its own: one boot each, each proven.
    assert problems("VR907", context("open-stack")) == []
    text = rendered("open-stack").files["redis/cache.conf"].decode().replace("maxmemory-policy allkeys-lfu", "maxmemory-policy allkeys-lfu-ish")
    (problem,) = problems("VR907", context("open-stack", {"redis/cache.conf": text}))
    assert problem.location.file == "out/open-stack/redis/cache.conf" and "did not start" in problem.message


def test_vr907_fail_broken_acl_template(redis_server):
    template = rendered("prod").files["redis/redis.users.acl.template"].decode().replace("user healthcheck on", "user healthcheck maybe")
    found = [p.message for p in problems("VR907", context("prod", {"redis/redis.users.acl.template": template}))]
    assert found and "did not start" in found[0]
