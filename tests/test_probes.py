"""The health probes really probe: each command runs here against a live HTTP server on
127.0.0.1 and must succeed while it answers 2xx, and fail once it is gone."""

from __future__ import annotations

import http.server
import shutil
import subprocess
import threading

import pytest

import vitalyst_render as vr
from vitalyst_render.probes import probe_command

PROFILE = vr.load_profile("prod").profile


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        self.send_response(200 if self.path in ("/health", "/") else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def retargeted(command: list[str], port: int, to: int) -> list[str]:
    return [part.replace(f"127.0.0.1:{port}", f"127.0.0.1:{to}").replace(f"127.0.0.1/{port}", f"127.0.0.1/{to}") for part in command]


@pytest.mark.parametrize("service", ["backend", "frontend", "neo4j"])
def test_http_probe_passes_on_2xx_and_fails_when_down(service, server):
    health = PROFILE.services[service].health
    command = probe_command(service, health)
    if shutil.which(command[0]) is None:
        pytest.skip(f"{command[0]} is not installed here")
    live = retargeted(command, health.port, server.server_port)
    assert live != command, "the probe must target the health port"
    assert subprocess.run(live, capture_output=True, timeout=30).returncode == 0
    dead_port = server.server_port
    server.shutdown()
    server.server_close()
    assert subprocess.run(retargeted(command, health.port, dead_port), capture_output=True, timeout=30).returncode != 0


def test_probe_uses_the_health_path(server):
    health = PROFILE.services["backend"].health.model_copy(update={"path": "/missing"})
    command = retargeted(probe_command("backend", health), health.port, server.server_port)
    assert subprocess.run(command, capture_output=True, timeout=30).returncode != 0


def test_command_probe_is_the_profiles_command():
    redis = PROFILE.services["redis"].health
    assert probe_command("redis", redis) == list(redis.command)
