"""VR907: redis.conf boots in a real redis-server, with its settings and ACLs in effect."""

from __future__ import annotations

import hashlib
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterable

from ..profile.types import memory_bytes
from .base import Problem, Severity, ToolUnavailable, check

CONF = "redis/redis.conf"
ACL_TEMPLATE = "redis/users.acl.template"
_PLACEHOLDER = re.compile(r"#<sha256 of ([a-z0-9-]+)'s password>")
INSPECTOR = "vr-inspector"
STARTUP_SECONDS = 10
#: What redis_exporter runs as the "metrics" user on every scrape.
EXPORTER_COMMANDS = (("PING",), ("INFO", "ALL"), ("CONFIG", "GET", "maxmemory"), ("SLOWLOG", "LEN"), ("SLOWLOG", "GET", "10"),
                     ("LATENCY", "LATEST"), ("LATENCY", "HISTOGRAM"), ("CLIENT", "SETNAME", "redis_exporter"),
                     ("CLIENT", "LIST"), ("DBSIZE",), ("MEMORY", "STATS"))
DENIED_TO_APP = (("FLUSHALL",), ("FLUSHDB",), ("CONFIG", "GET", "maxmemory"), ("DEBUG", "SLEEP", "0"), ("KEYS", "*"), ("SHUTDOWN",))


class _Resp:
    """Just enough RESP2 to send commands and read replies."""

    def __init__(self, port: int):
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buffer = b""

    def close(self) -> None:
        self.socket.close()

    def call(self, *words: str):  # noqa: ANN201 - str, int, list or RedisReplyError
        payload = f"*{len(words)}\r\n".encode() + b"".join(
            f"${len(w.encode())}\r\n".encode() + w.encode() + b"\r\n" for w in words
        )
        self.socket.sendall(payload)
        return self._reply()

    def _line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            chunk = self.socket.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    def _reply(self):  # noqa: ANN202
        line = self._line()
        kind, rest = line[:1], line[1:].decode()
        if kind == b"+":
            return rest
        if kind == b"-":
            return RedisReplyError(rest)
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            while len(self.buffer) < size + 2:
                self.buffer += self.socket.recv(65536)
            data, self.buffer = self.buffer[:size], self.buffer[size + 2 :]
            return data.decode()
        if kind == b"*":
            return [self._reply() for _ in range(int(rest))]
        raise ConnectionError(f"unexpected reply {line!r}")


class RedisReplyError(str):
    pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stand_in(text: str, folder: Path, port: int) -> str:
    """The rendered config with only the host-specific paths and the port swapped."""
    replaced = {"port": str(port), "bind": "127.0.0.1", "dir": str(folder / "data"), "aclfile": str(folder / "users.acl")}
    lines = []
    for raw in text.split("\n"):
        words = raw.split()
        if words and words[0].lower() in replaced:
            lines.append(f"{words[0]} {replaced[words[0].lower()]}")
        else:
            lines.append(raw)
    return "\n".join(lines) + "\nlogfile \"\"\ndaemonize no\n"


def expected_settings(profile) -> dict[str, str]:  # noqa: ANN001 - Profile
    """What CONFIG GET must return: the profile's intent, not the text's last word."""
    settings = profile.redis
    limit = memory_bytes(profile.services["redis"].resources.limits.memory)
    return {
        "maxmemory": str(int(limit * settings.maxmemory_ratio)),
        "maxmemory-policy": settings.maxmemory_policy,
        "appendonly": "yes" if settings.appendonly else "no",
        "appendfsync": settings.appendfsync,
        "tcp-keepalive": str(settings.tcp_keepalive),
        "timeout": str(settings.timeout),
        "latency-monitor-threshold": str(settings.latency_monitor_threshold),
        "protected-mode": "yes",
        "save": " ".join(f"{rule.seconds} {rule.changes}" for rule in settings.save),
    }


@check("VR907", "redis-server-boot", "redis.conf does not boot, or boots with other settings or open access", Severity.ERROR, tool="redis-server")
def redis_boot(ctx) -> Iterable[Problem]:
    """Boots the real ``redis-server`` (Debian's 7.0) on 127.0.0.1 with a free port and a
    temporary folder, using the rendered ``redis.conf`` and the rendered
    ``users.acl.template`` with each password hash filled in for a throwaway password. It proves that the config loads,
    that ``CONFIG GET`` returns what we rendered, that an unauthenticated command is
    refused, that the healthcheck user can PING and nothing else, that the app user
    cannot run FLUSHALL or CONFIG, and that the metrics user can run what
    redis_exporter sends; then shuts the server down.

    Remediation: read the server log in the finding; fix the profile's ``redis``
    section or the template.

    FAIL: ``maxmemory-policy allkeys-lru-ish`` (Redis refuses to start); a second
    ``maxmemory`` line (Redis runs with it, not with the profile's value).
    PASS: the rendered ``redis/redis.conf`` of every profile.
    """
    artefact = ctx.artefact(CONF)
    if artefact is None:
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise ToolUnavailable("redis-server not found (make test installs it)")
    users = dict(ctx.profile.redis.users)
    passwords = {name: secrets.token_hex(16) for name in [*users, INSPECTOR]}
    template = ctx.artefact(ACL_TEMPLATE)
    if template is not None:
        # The rendered template itself, with each placeholder filled by a throwaway
        # password's hash, exactly as operators fill it.
        acl = [
            _PLACEHOLDER.sub(lambda m: "#" + hashlib.sha256(passwords.get(m.group(1), "x").encode()).hexdigest(), line)
            for line in template.text.split("\n")
            if line.strip() and not line.startswith("#")
        ]
    else:
        acl = ["user default off"] + [f"user {name} on >{passwords[name]} resetchannels {rules}" for name, rules in users.items()]
    acl.append(f"user {INSPECTOR} on >{passwords[INSPECTOR]} +ping +config|get +acl|dryrun")
    where = ctx.location(CONF)
    with tempfile.TemporaryDirectory(prefix="vr-redis-") as folder_name:
        folder = Path(folder_name)
        (folder / "data").mkdir()
        (folder / "users.acl").write_text("\n".join(acl) + "\n")
        port = _free_port()
        (folder / "redis.conf").write_text(stand_in(artefact.text, folder, port))
        process = subprocess.Popen([binary, str(folder / "redis.conf")], cwd=folder, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        try:
            client = _connect(port, process)
            if client is None:
                output = process.communicate(timeout=5)[0] if process.poll() is not None else ""
                detail = " | ".join(line.strip() for line in output.splitlines() if line.strip())[-600:]
                yield Problem(f"redis-server did not start: {detail or 'no output'}", where)
                return
            try:
                yield from _probe(client, passwords, expected_settings(ctx.profile), where)
            except OSError as exc:
                yield Problem(f"redis-server dropped the connection while being probed: {exc}", where)
            finally:
                client.close()
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _connect(port: int, process: subprocess.Popen) -> _Resp | None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return None
        try:
            return _Resp(port)
        except OSError:
            time.sleep(0.05)
    return None


def _probe(client: _Resp, passwords: dict[str, str], expected: dict[str, str], where) -> Iterable[Problem]:  # noqa: ANN001
    anonymous = client.call("PING")
    if not (isinstance(anonymous, RedisReplyError) and anonymous.startswith("NOAUTH")):
        yield Problem(f"an unauthenticated PING was answered {anonymous!r}; the default user must be off", where)
    if client.call("AUTH", INSPECTOR, passwords[INSPECTOR]) != "OK":
        yield Problem("the stand-in ACL file was not loaded (aclfile ignored?)", where)
        return
    for name, value in expected.items():
        reply = client.call("CONFIG", "GET", name)
        actual = reply[1] if isinstance(reply, list) and len(reply) == 2 else reply
        if actual != value:
            yield Problem(f"CONFIG GET {name} returned {actual!r}; rendered {value!r}", where)
    if "healthcheck" in passwords:
        client.call("AUTH", "healthcheck", passwords["healthcheck"])
        if client.call("PING") != "PONG":
            yield Problem("the healthcheck user cannot PING", where)
        if not isinstance(client.call("GET", "x"), RedisReplyError):
            yield Problem("the healthcheck user can read data; it should only PING", where)
    if "app" in passwords:
        # ACL DRYRUN asks whether the user could run a command without running it,
        # which matters for FLUSHALL and SHUTDOWN.
        client.call("AUTH", INSPECTOR, passwords[INSPECTOR])
        for command in DENIED_TO_APP:
            if client.call("ACL", "DRYRUN", "app", *command) == "OK":
                yield Problem(f"the app user may run {command[0]}; it must be denied", where)
        if client.call("ACL", "DRYRUN", "app", "SET", "vr:probe", "1") != "OK":
            yield Problem("the app user cannot write keys", where)
    if "metrics" in passwords:
        client.call("AUTH", INSPECTOR, passwords[INSPECTOR])
        for command in EXPORTER_COMMANDS:
            reply = client.call("ACL", "DRYRUN", "metrics", *command)
            if reply != "OK":
                yield Problem(f"the metrics user may not run {' '.join(command)}, which redis_exporter needs: {reply}", where)
