"""``render testbed``: refusals and status without an engine, and stopping by PID only."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from vitalyst_render.cli import cli
from vitalyst_render.testbed.daemons import Daemon


def test_up_refuses_with_the_reason_when_a_program_is_missing(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    result = CliRunner().invoke(cli, ["testbed", "up"], env={"PATH": str(empty), "VITALYST_TESTBED_DIR": str(tmp_path / "state")})
    assert result.exit_code == 2
    reason = result.output.strip()
    assert reason.startswith("render: testbed: ") and "\n" not in reason
    assert "is not installed" in reason or "needs root" in reason


def test_status_and_down_of_a_testbed_that_never_ran(tmp_path):
    env = {"VITALYST_TESTBED_DIR": str(tmp_path / "state")}
    status = CliRunner().invoke(cli, ["testbed", "status"], env=env)
    assert status.exit_code == 0
    data = json.loads(status.output)
    assert data["swarm"] == "down" and data["dockerd"]["pid"] is None and data["registry"]["pid"] is None
    down = CliRunner().invoke(cli, ["testbed", "down"], env=env)
    assert down.exit_code == 0
    assert down.output.strip() == "testbed down: stopped nothing (not running)"


def test_a_daemon_is_stopped_only_when_its_marker_is_on_the_command_line(tmp_path):
    marker = str(tmp_path / "marker.sock")
    pidfile = tmp_path / "sleeper.pid"
    ours = Daemon("sleeper", pidfile, marker, tmp_path / "sleeper.log")
    pid = ours.start([sys.executable, "-c", "import time; time.sleep(60)", marker], ready=lambda: True, timeout=5)
    try:
        # A PID file that names a live process without our marker (a recycled PID, another
        # engine) is not ours: nothing is signalled.
        stale = tmp_path / "stale.pid"
        stale.write_text(f"{pid}\n")
        stranger = Daemon("stranger", stale, str(tmp_path / "other.sock"), tmp_path / "other.log")
        assert stranger.pid() is None
        assert stranger.stop() is False
        assert ours.pid() == pid
        assert ours.stop() is True
        assert ours.pid() is None and not pidfile.exists()
    finally:
        subprocess.run(["kill", str(pid)], capture_output=True)  # by PID, if an assertion failed first
