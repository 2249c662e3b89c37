"""``render redis-acl``: the filled-in ACL file loads in a real Redis and lets each user in."""

from __future__ import annotations

import subprocess
import time

import pytest
from click.testing import CliRunner

from tests.conftest import require_tool
from vitalyst_render.cli import cli

USERS = ("app", "healthcheck", "metrics", "backup")


@pytest.fixture
def passwords(tmp_path):
    folder = tmp_path / "passwords"
    folder.mkdir()
    for user in USERS:
        (folder / user).write_text(f"throwaway {user} pw\n")  # a trailing newline, as files have
    return folder


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_filled_acl_holds_hashes_only_and_every_user_logs_in(passwords, tmp_path):
    server = require_tool("redis-server")
    client = require_tool("redis-cli")
    result = run("redis-acl", "--profile", "prod", "--passwords-dir", str(passwords))
    assert result.exit_code == 0, result.output
    assert "throwaway" not in result.output
    assert [line.split()[1] for line in result.output.splitlines()] == ["default", *USERS]

    acl = tmp_path / "users.acl"
    acl.write_text(result.output)
    sock = tmp_path / "redis.sock"
    process = subprocess.Popen(
        [server, "--port", "0", "--unixsocket", str(sock), "--aclfile", str(acl), "--save", ""],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        for _ in range(50):
            if sock.exists():
                break
            time.sleep(0.1)
        assert sock.exists(), process.stdout.read() if process.poll() is not None else "redis did not start"

        def as_user(user: str, password: str, *command: str) -> str:
            return subprocess.run(
                [client, "-s", str(sock), "--no-auth-warning", "--user", user, "--pass", password, *command],
                capture_output=True, text=True, timeout=10,
            ).stdout.strip()

        for user in USERS:
            assert as_user(user, f"throwaway {user} pw", "PING") == "PONG", user
        assert "NOAUTH" in as_user("app", "wrong", "PING")  # the failed AUTH leaves it anonymous
        assert "NOPERM" in as_user("healthcheck", "throwaway healthcheck pw", "GET", "k")
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_user_without_a_password_file_is_a_one_line_error(passwords):
    (passwords / "backup").unlink()
    result = run("redis-acl", "--profile", "prod", "--passwords-dir", str(passwords))
    assert result.exit_code == 2
    assert result.output.strip() == "render: error: no password for redis service 'redis' user(s) backup"


def test_an_unknown_service_names_the_redis_services(passwords):
    result = run("redis-acl", "--profile", "prod", "--service", "cache", "--passwords-dir", str(passwords))
    assert result.exit_code == 2
    assert "has no redis service 'cache'; its redis services: redis" in result.output
