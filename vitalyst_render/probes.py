"""The one place that turns a ``health`` block into a command a container can run.

The Dockerfile HEALTHCHECK and the compose healthcheck both come from this, through
the stack plan, so they cannot drift apart. Which program performs an HTTP probe is
the service kind's business (its role says what its image has): Python in a
python-app's final stage, Node in a node-app's, and for upstream images bash's
``/dev/tcp`` (the request is sent by hand and the status line checked), or the
``wget``/``curl`` an image declares it has.
"""

from __future__ import annotations

from typing import Literal

from .profile.models import Health
from .profile.types import duration_seconds

#: Programs that can perform an HTTP probe inside an image.
ProbeProgram = Literal["python", "node", "bash", "wget", "curl"]
PROBE_PROGRAMS: tuple[ProbeProgram, ...] = ("python", "node", "bash", "wget", "curl")


def probe_url(health: Health) -> str:
    return f"http://127.0.0.1:{health.port}{health.path}"


def probe_command(program: ProbeProgram, health: Health) -> list[str]:
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
    if program == "wget":
        return ["wget", "-q", "-T", str(timeout), "-O", "/dev/null", url]
    if program == "curl":
        return ["curl", "-fsS", "--max-time", str(timeout), "-o", "/dev/null", url]
    request = f"GET {health.path} HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n"
    script = (
        f"exec 3<>/dev/tcp/127.0.0.1/{health.port} && printf '{request}' >&3 "
        f"&& timeout {timeout} head -n 1 <&3 | grep -Eq '^HTTP/[0-9.]+ [23][0-9][0-9] '"
    )
    return ["bash", "-c", script]
