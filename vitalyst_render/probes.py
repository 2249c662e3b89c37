"""The one place that turns a ``health`` block into a command a container can run.

The Dockerfile HEALTHCHECK and the compose healthcheck both call this, so they cannot
drift apart. Each program used here exists in the image that runs it: the backend's
final stage has Python, the frontend's has Node, and the upstream images bring their
own tools (bash in neo4j, redis-cli in redis). Where an image has no HTTP client,
bash's ``/dev/tcp`` sends the request and the status line is checked.
"""

from __future__ import annotations

from .profile.models import Health
from .profile.types import duration_seconds

#: Program that performs an HTTP probe inside each service's image.
HTTP_PROBE_PROGRAM = {"backend": "python", "frontend": "node", "neo4j": "bash"}


def probe_url(health: Health) -> str:
    return f"http://127.0.0.1:{health.port}{health.path}"


def probe_command(service: str, health: Health) -> list[str]:
    """An exec-form argument vector; no shell, so nothing in it is interpreted.

    The URL is built from a validated port and a path of URL-safe characters only, so
    quoting it as a Python/JavaScript string literal with ``repr`` is exact.
    """
    if health.kind == "command":
        return list(health.command or [])
    timeout = max(1, int(duration_seconds(health.timeout)))
    if health.kind == "tcp":
        return ["bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{health.port}"]
    url = probe_url(health)
    program = HTTP_PROBE_PROGRAM.get(service, "bash")
    if program == "python":
        code = (
            "import sys, urllib.request; "
            f"sys.exit(0 if urllib.request.urlopen({url!r}, timeout={timeout}).status < 400 else 1)"
        )
        return ["python", "-c", code]
    if program == "node":
        code = (
            f"require('http').get({url!r}, {{ timeout: {timeout * 1000} }}, "
            "(res) => process.exit(res.statusCode < 400 ? 0 : 1)).on('error', () => process.exit(1))"
        )
        return ["node", "-e", code]
    request = f"GET {health.path} HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n"
    script = (
        f"exec 3<>/dev/tcp/127.0.0.1/{health.port} && printf '{request}' >&3 "
        f"&& timeout {timeout} head -n 1 <&3 | grep -Eq '^HTTP/[0-9.]+ [23][0-9][0-9] '"
    )
    return ["bash", "-c", script]


def exporter_command(secret: str) -> list[str]:
    """redis_exporter, with the password read from its secret file into the environment
    (``--redis.password-file`` expects a JSON map, and argv is visible in ``ps``)."""
    return ["/bin/sh", "-c", f'REDIS_PASSWORD="$(cat /run/secrets/{secret})" exec /redis_exporter']
