"""Sample backend of the vitalyst-render live testbed.

Built with the rendered backend Dockerfile unchanged and run as uid 10001 on a read-only
root filesystem (only /tmp writable). Uses only what FastAPI 0.92 and Starlette 0.26
provide, plus the standard library.

GET /health   200 {"status": "ok"}; 503 when the file src/BROKEN is in the image (the
              testbed's broken release: copy this context, add src/BROKEN, build).
GET /metrics  Prometheus text: process_resident_memory_bytes, process_cpu_seconds_total,
              http_requests_total and http_request_duration_seconds.
GET /deps     Not used by any health check: whether NEO4J_URI answers the Bolt handshake and
              REDIS_URL answers PING after AUTH (REDIS_USERNAME, REDIS_PASSWORD_FILE); 200
              when both do, else 503. Never returns a secret.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any, Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

BROKEN_MARKER = Path(__file__).resolve().parent / "BROKEN"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
KNOWN_PATHS = {"/health", "/metrics", "/deps"}

app = FastAPI(title="vitalyst testbed backend", docs_url=None, redoc_url=None, openapi_url=None)

_lock = threading.Lock()
_requests: dict[tuple[str, str, str], int] = {}
_durations: dict[tuple[str, str], list[float]] = {}  # per bucket counts, then sum, count


def _record(method: str, handler: str, status: int, seconds: float) -> None:
    with _lock:
        key = (method, handler, str(status))
        _requests[key] = _requests.get(key, 0) + 1
        hist = _durations.setdefault((method, handler), [0.0] * (len(BUCKETS) + 2))
        for index, bound in enumerate(BUCKETS):
            if seconds <= bound:
                hist[index] += 1
        hist[-2] += seconds
        hist[-1] += 1


@app.middleware("http")
async def count_requests(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    started = time.perf_counter()
    handler = request.url.path if request.url.path in KNOWN_PATHS else "other"
    status = 500
    try:
        response = await call_next(request)
        status = response.status_code
        return response
    finally:
        _record(request.method, handler, status, time.perf_counter() - started)


@app.get("/health")
def health() -> JSONResponse:
    if BROKEN_MARKER.exists():
        return JSONResponse({"status": "broken"}, status_code=503)
    return JSONResponse({"status": "ok"})


def _process_metrics() -> list[str]:
    lines = []
    page_size = os.sysconf("SC_PAGE_SIZE")
    ticks = os.sysconf("SC_CLK_TCK")
    with open("/proc/self/statm", encoding="ascii") as statm:
        resident_pages = int(statm.read().split()[1])
    with open("/proc/self/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): utime and stime are fields 14 and 15, starttime 22
    cpu_seconds = (int(fields[11]) + int(fields[12])) / ticks
    with open("/proc/stat", encoding="ascii") as proc_stat:
        boot = next(int(line.split()[1]) for line in proc_stat if line.startswith("btime "))
    start_time = boot + int(fields[19]) / ticks
    open_fds = len(os.listdir("/proc/self/fd"))
    lines += [
        "# HELP process_resident_memory_bytes Resident memory size in bytes.",
        "# TYPE process_resident_memory_bytes gauge",
        f"process_resident_memory_bytes {resident_pages * page_size}",
        "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.",
        "# TYPE process_cpu_seconds_total counter",
        f"process_cpu_seconds_total {cpu_seconds:.2f}",
        "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.",
        "# TYPE process_start_time_seconds gauge",
        f"process_start_time_seconds {start_time:.2f}",
        "# HELP process_open_fds Number of open file descriptors.",
        "# TYPE process_open_fds gauge",
        f"process_open_fds {open_fds}",
    ]
    return lines


def _http_metrics() -> list[str]:
    with _lock:
        requests = dict(_requests)
        durations = {key: list(value) for key, value in _durations.items()}
    lines = [
        "# HELP http_requests_total Total number of HTTP requests by method, handler and status.",
        "# TYPE http_requests_total counter",
    ]
    for (method, handler, status), count in sorted(requests.items()):
        lines.append(
            f'http_requests_total{{method="{method}",handler="{handler}",status="{status}"}} {count}'
        )
    lines += [
        "# HELP http_request_duration_seconds Duration of HTTP requests in seconds.",
        "# TYPE http_request_duration_seconds histogram",
    ]
    for (method, handler), hist in sorted(durations.items()):
        labels = f'method="{method}",handler="{handler}"'
        for index, bound in enumerate(BUCKETS):
            lines.append(f'http_request_duration_seconds_bucket{{{labels},le="{bound}"}} {hist[index]:g}')
        lines.append(f'http_request_duration_seconds_bucket{{{labels},le="+Inf"}} {hist[-1]:g}')
        lines.append(f"http_request_duration_seconds_sum{{{labels}}} {hist[-2]:.6f}")
        lines.append(f"http_request_duration_seconds_count{{{labels}}} {hist[-1]:g}")
    return lines


@app.get("/metrics")
def metrics() -> PlainTextResponse:
    body = "\n".join(_process_metrics() + _http_metrics()) + "\n"
    return PlainTextResponse(body, media_type=CONTENT_TYPE)


def _check_bolt(uri: str) -> str:
    parsed = urllib.parse.urlsplit(uri)
    versions = b"\x00\x00\x00\x05" + b"\x00\x00\x04\x04" + b"\x00" * 8
    with socket.create_connection((parsed.hostname or "localhost", parsed.port or 7687), timeout=2) as sock:
        sock.settimeout(2)
        sock.sendall(b"\x60\x60\xb0\x17" + versions)
        reply = sock.recv(4)
    if len(reply) != 4 or reply == b"\x00\x00\x00\x00":
        return "no Bolt version agreed"
    return f"ok (Bolt {reply[3]}.{reply[2]})"


def _check_redis(url: str) -> str:
    parsed = urllib.parse.urlsplit(url)
    user = os.environ.get("REDIS_USERNAME", "")
    password = ""
    password_file = os.environ.get("REDIS_PASSWORD_FILE")
    if password_file:
        password = Path(password_file).read_text(encoding="utf-8").strip()

    def command(*args: str) -> bytes:
        out = b"*%d\r\n" % len(args)
        for arg in args:
            data = arg.encode()
            out += b"$%d\r\n%s\r\n" % (len(data), data)
        return out

    with socket.create_connection((parsed.hostname or "localhost", parsed.port or 6379), timeout=2) as sock:
        sock.settimeout(2)
        if password:
            sock.sendall(command("AUTH", user, password) if user else command("AUTH", password))
            if not sock.recv(512).startswith(b"+OK"):
                return "AUTH refused"
        sock.sendall(command("PING"))
        reply = sock.recv(512)
    return "ok" if reply.startswith(b"+PONG") else "PING refused"


@app.get("/deps")
def deps() -> JSONResponse:
    checks: dict[str, Any] = {}
    healthy = True
    for name, env, probe in (("neo4j", "NEO4J_URI", _check_bolt), ("redis", "REDIS_URL", _check_redis)):
        target = os.environ.get(env)
        if not target:
            checks[name] = "not configured"
            continue
        try:
            checks[name] = probe(target)
        except (OSError, ValueError) as exc:
            checks[name] = f"error: {exc.__class__.__name__}: {exc}"
        healthy = healthy and checks[name].startswith("ok")
    return JSONResponse({"status": "ok" if healthy else "degraded", "checks": checks},
                        status_code=200 if healthy else 503)
