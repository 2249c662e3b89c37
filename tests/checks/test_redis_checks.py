"""VR501–VR504 (our redis.conf validator) and VR907 (a real redis-server): what the
check examples cannot state (related locations, server output that varies per run)."""

from __future__ import annotations

import pytest

from ..conftest import require_tool
from .support import context, context_of, overlay, problems, rendered

CONF = "redis/redis.conf"


def conf(profile: str = "prod", replace: tuple[str, str] | None = None, append: str = "") -> str:
    text = rendered(profile).files[CONF].decode()
    if replace:
        assert replace[0] in text
        text = text.replace(*replace)
    return text + append


@pytest.mark.parametrize("check_id", ["VR501", "VR502", "VR503", "VR504"])
@pytest.mark.parametrize("profile", ["dev", "staging", "prod", "open-stack"])
def test_committed_configs_pass(check_id, profile):
    assert problems(check_id, context(profile)) == []


def test_vr503_fail_second_maxmemory_points_at_the_first():
    (problem,) = problems("VR503", context("prod", {CONF: conf(append="maxmemory 1gb\n")}))
    assert problem.message.startswith("maxmemory is set again")
    assert problem.location.file == "out/prod/redis/redis.conf"
    assert problem.related[0].file == "out/prod/redis/redis.conf" and problem.related[0].line < problem.location.line


@pytest.fixture
def redis_server():
    return require_tool("redis-server")


@pytest.mark.parametrize("profile", ["dev", "staging", "prod", "open-stack"])
def test_vr907_pass_boots_with_settings_and_acls(redis_server, profile):
    # open-stack: the cache's config and ACL template are its own, one boot each.
    assert problems("VR907", context(profile)) == []


def test_vr907_fail_broken_acl_template(redis_server):
    # The server log names a temporary folder and a pid: no example can state it exactly.
    template = rendered("prod").files["redis/redis.users.acl.template"].decode().replace("user healthcheck on", "user healthcheck maybe")
    found = [p.message for p in problems("VR907", context("prod", {"redis/redis.users.acl.template": template}))]
    assert len(found) == 1 and found[0].startswith("redis-server did not start:") and "ACL errors" in found[0]


OLD_APP_RULE = "~* &* +@all -@dangerous -@admin -flushall -flushdb -config -debug -keys -shutdown -monitor -acl"
SCRIPT_ADMIN = ("FUNCTION FLUSH", "FUNCTION DELETE", "FUNCTION RESTORE", "SCRIPT FLUSH")


def test_vr907_proves_the_app_user_cannot_wipe_functions_or_scripts(redis_server):
    # The committed rule denies them: the real server refuses, so VR907 is quiet.
    assert problems("VR907", context("staging")) == []
    # Without the denials (@dangerous does not hold FUNCTION FLUSH or SCRIPT FLUSH), the
    # real server lets app run each of them, and VR907 names every one.
    old = overlay(f"extends: staging\nservices:\n  redis:\n    users:\n      app: '{OLD_APP_RULE}'\n")
    found = [p.message for p in problems("VR907", context_of(old))]
    assert found == [f"the app user may run {command}; it must be denied" for command in SCRIPT_ADMIN]



def test_vr907_boots_many_servers_side_by_side_and_blames_each_finding_on_its_own_config(redis_server):
    # A dozen caches: more than boot at once. Two are broken, each its own way; each
    # finding names its own file, and the findings come in the order of the configs.
    import importlib.util

    from ..conftest import REPO

    spec = importlib.util.spec_from_file_location("make_profile", REPO / "benchmarks" / "make_profile.py")
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    wide = overlay(make.make_profile(60), "wide")
    caches = [f.path for _, f in wide.plan.files_of_format("redis.conf")]
    assert len(caches) > 2 * 4
    broken = {caches[3]: ("maxmemory-policy allkeys-lfu", "maxmemory-policy allkeys-lfu-ish"),
              caches[9]: ("appendonly no", "appendonly no\nmaxmemory 100mb")}
    replace = {path: wide.files[path].decode().replace(*edit) for path, edit in broken.items()}
    found = [(p.location.file, p.message) for p in problems("VR907", context_of(wide, replace))]
    assert [(file, message.split(":")[0]) for file, message in found] == [
        (f"out/wide/{caches[3]}", "redis-server did not start"),
        (f"out/wide/{caches[9]}", "CONFIG GET maxmemory returned '104857600'; rendered '241591910'"),
    ]


ACL_TEMPLATES = {"prod": ["redis/redis.users.acl.template"],
                 "open-stack": ["redis/redis.users.acl.template", "redis/cache.users.acl.template"]}


@pytest.mark.parametrize("profile", sorted(ACL_TEMPLATES))
def test_vr907_refuses_a_passwordless_user_for_every_user_of_every_redis(redis_server, profile):
    # Issue 15, class 1: an ACL file whose user has nopass (or lost its hash) boots, and
    # every role-specific probe still passes; the server's own view of the user does not.
    for path in ACL_TEMPLATES[profile]:
        template = rendered(profile).files[path].decode()
        users = [line.split()[1] for line in template.splitlines() if line.startswith("user ") and "default" not in line]
        assert users
        for user in users:
            hashed = f"user {user} on #<sha256 of {user}'s password>"
            for tampered, message in ((f"user {user} on nopass", f"the {user} user has nopass: any password logs in as it"),
                                      (f"user {user} on", f"the {user} user has no password: nobody can log in as it")):
                found = [p.message for p in problems("VR907", context(profile, {path: template.replace(hashed, tampered)}))]
                assert found == [message], (path, user, found)


def test_vr907_refuses_a_user_granted_more_than_its_rules(redis_server):
    path = "redis/redis.users.acl.template"
    template = rendered("prod").files[path].decode()
    broad = template.replace("resetchannels +ping +sync +psync +replconf", "resetchannels +ping +sync +psync +replconf +@all ~* &*")
    found = [p.message for p in problems("VR907", context("prod", {path: broad}))]
    assert found == [
        "the backup user's commands on the server are '+@all'; its rules in the profile give '+ping +psync +replconf +sync -@all'",
        "the backup user's keys on the server are '~*'; its rules in the profile give ''",
        "the backup user's channels on the server are '&*'; its rules in the profile give ''",
        "the backup user may run GET, SET, KEYS, EVAL, PUBLISH, FLUSHALL, CONFIG SET, ACL SETUSER, SHUTDOWN, DEBUG, "
        "MODULE LOAD, which its job (RDB copy) never needs; grant it only the commands of that job",
    ]


def test_vr907_refuses_a_user_the_profile_does_not_declare(redis_server):
    path = "redis/redis.users.acl.template"
    template = rendered("prod").files[path].decode().replace("user default off\n", "user default off\nuser ops on nopass ~* +@all\n")
    found = [p.message for p in problems("VR907", context("prod", {path: template}))]
    assert found == ["the ACL file has a user 'ops' that the profile does not declare"]
