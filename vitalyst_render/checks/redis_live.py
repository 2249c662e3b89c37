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
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..errors import Location
from ..profile.acl import AclRuleError, parse_acl_rules

from ._tools import missing_tool
from .base import Problem, Severity, check
from .context import CheckContext
from .examples import ADD_CACHE, Edit, Expect, Fail, Pass

_PLACEHOLDER = re.compile(r"#<sha256 of ([a-z0-9-]+)'s password>")
INSPECTOR = "vr-inspector"
STARTUP_SECONDS = 10
#: The socket each stand-in server listens on, in its own folder.
SOCKET = "redis.sock"
#: How many servers boot side by side.
BOOTS_AT_ONCE = 4
#: What redis_exporter runs as the "metrics" user on every scrape.
EXPORTER_COMMANDS = (("PING",), ("INFO", "ALL"), ("CONFIG", "GET", "maxmemory"), ("SLOWLOG", "LEN"), ("SLOWLOG", "GET", "10"),
                     ("LATENCY", "LATEST"), ("LATENCY", "HISTOGRAM"), ("CLIENT", "SETNAME", "redis_exporter"),
                     ("CLIENT", "LIST"), ("DBSIZE",), ("MEMORY", "STATS"))
#: What the app user must be refused, as findings name it: the word before each vector.
#: FUNCTION FLUSH/DELETE/RESTORE and SCRIPT FLUSH wipe or replace every client's scripts
#: and functions, and none of them is in @dangerous.
DENIED_TO_APP = (("FLUSHALL", ("FLUSHALL",)), ("FLUSHDB", ("FLUSHDB",)), ("CONFIG", ("CONFIG", "GET", "maxmemory")),
                 ("DEBUG", ("DEBUG", "SLEEP", "0")), ("KEYS", ("KEYS", "*")), ("SHUTDOWN", ("SHUTDOWN",)),
                 ("FUNCTION FLUSH", ("FUNCTION", "FLUSH")), ("FUNCTION DELETE", ("FUNCTION", "DELETE", "vr")),
                 ("FUNCTION RESTORE", ("FUNCTION", "RESTORE", "x")), ("SCRIPT FLUSH", ("SCRIPT", "FLUSH")))
#: What a user with a narrow job (the healthcheck, the exporter's, the backup's) must be
#: refused: any key, any write, and administration. Each needs a handful of commands.
DENIED_TO_SERVICE_USERS = (("GET", ("GET", "vr:probe")), ("SET", ("SET", "vr:probe", "1")), ("KEYS", ("KEYS", "*")),
                           ("EVAL", ("EVAL", "return 1", "0")), ("PUBLISH", ("PUBLISH", "vr:probe", "1")),
                           ("FLUSHALL", ("FLUSHALL",)), ("CONFIG SET", ("CONFIG", "SET", "maxmemory", "0")),
                           ("ACL SETUSER", ("ACL", "SETUSER", "vr-probe")), ("SHUTDOWN", ("SHUTDOWN",)),
                           ("DEBUG", ("DEBUG", "SLEEP", "0")), ("MODULE LOAD", ("MODULE", "LOAD", "/vr")))
#: What a RESP2 reply decodes to (an error reply is a RedisReplyError, a str).
Reply = str | int | list[Any] | None

CONF = "redis/redis.conf"
CACHE_CONF = "redis/cache.conf"
ACL = "redis/redis.users.acl.template"
_POLICIES = "volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"


_APP_WITHOUT_SCRIPT_DENIALS = "~* &* +@all -@dangerous -@admin -flushall -flushdb -config -debug -keys -shutdown -monitor -acl"


def _users(**rules: str) -> str:
    """An overlay that changes the ACL rules of some users of the service redis."""
    return "services:\n  redis:\n    users:\n" + "".join(f"      {name}: '{rule}'\n" for name, rule in rules.items())


EXAMPLES = (
    Fail("a maxmemory-policy Redis does not know: the server refuses to start",
         edits=[Edit(CONF, "maxmemory-policy allkeys-lru", "maxmemory-policy allkeys-lru-ish")],
         expect=[Expect(CONF, "redis-server did not start: *** FATAL CONFIG FILE ERROR *** | Reading the configuration "
                              "file, at line 16 | >>> 'maxmemory-policy allkeys-lru-ish' | argument(s) must be one of the following: "
                              + _POLICIES)]),
    Fail("a second maxmemory line: Redis runs with it, not with the profile's value",
         edits=[Edit(CONF, "latency-monitor-threshold 100\n", "latency-monitor-threshold 100\nmaxmemory 100mb\n")],
         expect=[Expect(CONF, "CONFIG GET maxmemory returned '104857600'; rendered '751619276'")]),
    Fail("the app user given every command in the profile",
         overlay=_users(app="~* &* +@all"),
         expect=[Expect(CONF, f"the app user may run {shown}; it must be denied") for shown, _ in DENIED_TO_APP]),
    Fail("the app rule before issue 12: -@dangerous leaves FUNCTION FLUSH and SCRIPT FLUSH (and DELETE, RESTORE) to app",
         overlay=_users(app=_APP_WITHOUT_SCRIPT_DENIALS),
         expect=[Expect(CONF, f"the app user may run {shown}; it must be denied")
                 for shown in ("FUNCTION FLUSH", "FUNCTION DELETE", "FUNCTION RESTORE", "SCRIPT FLUSH")]),
    Fail("a healthcheck user that may read keys", overlay=_users(healthcheck="+ping +@read ~*"),
         expect=[Expect(CONF, "the healthcheck user may run GET, KEYS, which its job (healthcheck) never needs; "
                              "grant it only the commands of that job")]),
    Fail("an exporter user given every command and key, as its rules in the profile say",
         overlay=_users(metrics="+@all ~* &*"),
         expect=[Expect(CONF, "the metrics user may run " + ", ".join(shown for shown, _ in DENIED_TO_SERVICE_USERS)
                              + ", which its job (redis_exporter) never needs; grant it only the commands of that job")]),
    Fail("an exporter user without INFO",
         overlay=_users(metrics="+ping +client|list +client|setname +config|get +slowlog +latency +memory|stats +dbsize"),
         expect=[Expect(CONF, "the metrics user may not run INFO ALL, which redis_exporter needs: "
                              "This user has no permissions to run the 'info' command")]),
    Fail("a backup user that may SYNC but not PSYNC or REPLCONF", overlay=_users(backup="+ping +sync"),
         expect=[Expect(CONF, f"the backup user may not run {command}, which an RDB copy needs: "
                              f"This user has no permissions to run the '{command.lower()}' command")
                 for command in ("PSYNC", "REPLCONF")]),
    Fail("a second Redis added in the profile boots on its own config, and fails alone",
         overlay=ADD_CACHE, edits=[Edit(CACHE_CONF, "maxmemory-policy allkeys-lfu", "maxmemory-policy allkeys-lfu-ish")],
         expect=[Expect(CACHE_CONF, "redis-server did not start: *** FATAL CONFIG FILE ERROR *** | Reading the "
                                    "configuration file, at line 16 | >>> 'maxmemory-policy allkeys-lfu-ish' | argument(s) must be "
                                    "one of the following: " + _POLICIES)]),
    Fail("the ACL file gives the healthcheck user nopass instead of its secret's hash",
         edits=[Edit(ACL, "user healthcheck on #<sha256 of healthcheck's password>", "user healthcheck on nopass")],
         expect=[Expect(CONF, "the healthcheck user has nopass: any password logs in as it")]),
    Fail("the ACL file gives the backup user a literal password beside its hash, and a user the profile does not have",
         edits=[Edit(ACL, "user backup on #<sha256 of backup's password>", "user backup on #<sha256 of backup's password> >letmein"),
                Edit(ACL, "user default off\n", "user default off\nuser intruder on nopass ~* +@all\n")],
         expect=[Expect(CONF, "the ACL file has a user 'intruder' that the profile does not declare"),
                 Expect(CONF, "the backup user has 2 passwords; it may only have the hash of its secret")]),
    Fail("the ACL file grants the metrics user more than its rules in the profile",
         edits=[Edit(ACL, "+ping +info +client|list", "+ping +info +keys ~* +client|list")],
         expect=[Expect(CONF, "the metrics user's commands on the server are '+client|info +client|list +client|setname "
                              "+config|get +dbsize +info +keys +latency +memory|stats +module|list +ping +select +slowlog -@all'; "
                              "its rules in the profile give '+client|info +client|list +client|setname +config|get +dbsize "
                              "+info +latency +memory|stats +module|list +ping +select +slowlog -@all'"),
                 Expect(CONF, "the metrics user's keys on the server are '~*'; its rules in the profile give ''"),
                 Expect(CONF, "the metrics user may run KEYS, which its job (redis_exporter) never needs; "
                              "grant it only the commands of that job")]),
    Pass("a second Redis (a cache without persistence or backup user) boots with its own settings and users", overlay=ADD_CACHE),
    Pass("Redis switched to allkeys-lfu without persistence in the profile: CONFIG GET follows",
         overlay="services:\n  redis:\n    config: {maxmemory_policy: allkeys-lfu, appendonly: false, save: [], maxmemory_ratio: 0.9}\n"
                 "    backup: null\n"),
)


class _Resp:
    """Just enough RESP2 to send commands and read replies."""

    def __init__(self, path: Path) -> None:
        self.socket = socket.socket(socket.AF_UNIX)
        self.socket.settimeout(5)
        try:
            self.socket.connect(str(path))
        except OSError:
            self.socket.close()
            raise
        self.buffer = b""

    def close(self) -> None:
        self.socket.close()

    def call(self, *words: str) -> Reply:
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

    def _reply(self) -> Reply:
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


def stand_in(text: str, folder: Path) -> str:
    """The rendered config with only the host-specific paths swapped, listening on a
    socket in ``folder`` rather than a TCP port: boots side by side never race for a port."""
    replaced = {"port": "0", "bind": "127.0.0.1", "dir": str(folder / "data"), "aclfile": str(folder / "users.acl")}
    lines = []
    for raw in text.split("\n"):
        words = raw.split()
        if words and words[0].lower() in replaced:
            lines.append(f"{words[0]} {replaced[words[0].lower()]}")
        else:
            lines.append(raw)
    return "\n".join(lines) + f"\nunixsocket {folder / SOCKET}\nunixsocketperm 700\nlogfile \"\"\ndaemonize no\n"


@check("VR907", "redis-server-boot", "redis.conf does not boot, or boots with other settings or open access", Severity.ERROR, tool="redis-server",
       examples=EXAMPLES)
def redis_boot(ctx: CheckContext) -> Iterable[Problem]:
    """For every service the plan gives a redis.conf, boots the real ``redis-server`` (Debian's 7.0)
    on a unix socket in a temporary folder, using the rendered redis.conf and the
    rendered ACL template with each password hash filled in for a throwaway password.
    It proves that the config loads, that ``CONFIG GET`` returns what the plan decided,
    that an unauthenticated command is refused, and that every user is held to its role:
    the ``healthcheck`` user, the exporter's and the backup's may read or write no key,
    run no script, publish nothing and administer nothing (FLUSHALL, CONFIG SET, ACL
    SETUSER, SHUTDOWN, DEBUG, MODULE LOAD); every other user (the ``app``'s) cannot run
    FLUSHALL, CONFIG or the script and function commands that wipe every client's
    (FUNCTION FLUSH, DELETE and RESTORE, SCRIPT FLUSH: none is in ``@dangerous``), and the
    ``app`` user can still write keys; the healthcheck user can PING, the exporter's can run
    what redis_exporter sends and the backup user can SYNC. Then it shuts the server down.

    It also asks the server (``ACL USERS``, ``ACL GETUSER``) about every user it loaded:
    each must be one the profile declares, without ``nopass``, with exactly one password
    (the hash of its secret), and with exactly the flags, commands, keys, channels and
    selectors its rules in the profile grant, compared with a twin user made on the same
    server from those rules. A hand-edited or tampered ACL file that lets a user in
    without a password, adds one, or grants more fails here.

    Remediation: read the server log in the finding; fix the service's ``config`` or
    ``users`` in the profile, or the template.
    """
    configs = ctx.plan.files_of_format("redis.conf")
    if not configs:
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise missing_tool("redis-server")
    boots = []
    for service, conf in configs:
        artefact = ctx.artefact(conf.path)
        if artefact is None:
            continue
        acl = next((f for f in service.files if f.format == "redis.acl"), None)
        template = ctx.artefact(acl.path) if acl is not None else None
        boots.append((binary, artefact.text, template.text if template else None, conf.context, ctx.location(conf.path)))
    # Each server mostly waits (to start, to answer): several boot side by side.
    with ThreadPoolExecutor(max_workers=BOOTS_AT_ONCE) as pool:
        for problems in pool.map(lambda boot: list(_boot(*boot)), boots):
            yield from problems


def _boot(binary: str, conf_text: str, acl_template: str | None, facts: Mapping[str, Any], where: Location) -> Iterator[Problem]:
    users = dict(facts["users"])
    passwords = {name: secrets.token_hex(16) for name in [*users, INSPECTOR]}
    if acl_template is not None:
        # The rendered template itself, with each placeholder filled by a throwaway
        # password's hash, exactly as operators fill it.
        acl = [
            _PLACEHOLDER.sub(lambda m: "#" + hashlib.sha256(passwords.get(m.group(1), "x").encode()).hexdigest(), line)
            for line in acl_template.split("\n")
            if line.strip() and not line.startswith("#")
        ]
    else:
        acl = ["user default off"] + [f"user {name} on >{passwords[name]} resetchannels {rules}" for name, rules in users.items()]
    acl.append(f"user {INSPECTOR} on >{passwords[INSPECTOR]} +ping +config|get +acl|dryrun +acl|getuser +acl|setuser +acl|users")
    with tempfile.TemporaryDirectory(prefix="vr-redis-") as folder_name:
        folder = Path(folder_name)
        (folder / "data").mkdir()
        (folder / "users.acl").write_text("\n".join(acl) + "\n")
        (folder / "redis.conf").write_text(stand_in(conf_text, folder))
        process = subprocess.Popen([binary, str(folder / "redis.conf")], cwd=folder, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        try:
            client = _connect(folder / SOCKET, process)
            if client is None:
                yield _not_started(process, where)
                return
            try:
                yield from _probe(client, passwords, facts, where)
            except OSError as exc:
                # The socket can accept before the server has read its ACL file and
                # given up on it: a server that has exited did not start.
                try:
                    process.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    yield Problem(f"redis-server dropped the connection while being probed: {exc}", where)
                else:
                    yield _not_started(process, where)
            finally:
                client.close()
        finally:
            # Nothing in its throwaway folder is worth a graceful stop, which waits for
            # the server's next cron tick (up to 100 ms at hz 10).
            process.kill()
            process.wait()
            if process.stdout is not None:
                process.stdout.close()


def _not_started(process: subprocess.Popen[str], where: Location) -> Problem:
    output = process.communicate(timeout=5)[0] if process.poll() is not None else ""
    detail = " | ".join(line.strip() for line in output.splitlines() if line.strip())[-600:]
    detail = re.sub(r" \(Redis [0-9][0-9.]*\)", "", detail)  # the same finding on every 7.x
    return Problem(f"redis-server did not start: {detail or 'no output'}", where)


def _connect(path: Path, process: subprocess.Popen[str]) -> _Resp | None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return None
        try:
            return _Resp(path)
        except OSError:
            time.sleep(0.005)
    return None


def _probe(client: _Resp, passwords: dict[str, str], facts: Mapping[str, Any], where: Location) -> Iterator[Problem]:
    anonymous = client.call("PING")
    if not (isinstance(anonymous, RedisReplyError) and anonymous.startswith("NOAUTH")):
        yield Problem(f"an unauthenticated PING was answered {anonymous!r}; the default user must be off", where)
    if client.call("AUTH", INSPECTOR, passwords[INSPECTOR]) != "OK":
        yield Problem("the stand-in ACL file was not loaded (aclfile ignored?)", where)
        return
    for name, value in facts["expected"].items():
        reply = client.call("CONFIG", "GET", name)
        actual = reply[1] if isinstance(reply, list) and len(reply) == 2 else reply
        if actual != value:
            yield Problem(f"CONFIG GET {name} returned {actual!r}; rendered {value!r}", where)
    yield from _users_as_declared(client, passwords, facts["users"], where)
    if "healthcheck" in passwords:
        client.call("AUTH", "healthcheck", passwords["healthcheck"])
        if client.call("PING") != "PONG":
            yield Problem("the healthcheck user cannot PING", where)
    # Every user is held to its role, not only to its rules in the profile: ACL DRYRUN asks
    # whether it could run a command without running it, which matters for FLUSHALL and SHUTDOWN.
    client.call("AUTH", INSPECTOR, passwords[INSPECTOR])
    narrow = {"healthcheck": "healthcheck", facts.get("exporter_user"): "redis_exporter", facts.get("backup_user"): "RDB copy"}
    for user in facts["users"]:
        if user in narrow:
            allowed = [shown for shown, command in DENIED_TO_SERVICE_USERS if client.call("ACL", "DRYRUN", user, *command) == "OK"]
            if allowed:
                yield Problem(f"the {user} user may run {', '.join(allowed)}, which its job ({narrow[user]}) never needs; "
                              "grant it only the commands of that job", where)
            continue
        for shown, command in DENIED_TO_APP:
            if client.call("ACL", "DRYRUN", user, *command) == "OK":
                yield Problem(f"the {user} user may run {shown}; it must be denied", where)
        if user == "app" and client.call("ACL", "DRYRUN", "app", "SET", "vr:probe", "1") != "OK":
            yield Problem("the app user cannot write keys", where)
    exporter = facts.get("exporter_user")
    if exporter in passwords:
        client.call("AUTH", INSPECTOR, passwords[INSPECTOR])
        for command in EXPORTER_COMMANDS:
            reply = client.call("ACL", "DRYRUN", exporter, *command)
            if reply != "OK":
                yield Problem(f"the {exporter} user may not run {' '.join(command)}, which redis_exporter needs: {reply}", where)
    backup = facts.get("backup_user")
    if backup in passwords:
        client.call("AUTH", INSPECTOR, passwords[INSPECTOR])
        for command in (("SYNC",), ("PSYNC", "?", "-1"), ("REPLCONF", "capa", "eof")):
            reply = client.call("ACL", "DRYRUN", backup, *command)
            if reply != "OK":
                yield Problem(f"the {backup} user may not run {command[0]}, which an RDB copy needs: {reply}", where)


#: What ACL GETUSER says of a user, compared between the server's user and its twin.
_SHAPE = ("flags", "commands", "keys", "channels", "selectors")
TWIN = "vr-declared-"


def _getuser(client: _Resp, name: str) -> dict[str, Any] | None:
    reply = client.call("ACL", "GETUSER", name)
    if not isinstance(reply, list):
        return None
    return dict(zip(reply[::2], reply[1::2]))


def _normal(value: Any) -> Any:
    """A GETUSER field in an order-free form: Redis lists subcommand rules in no fixed order."""
    if isinstance(value, list):
        return sorted(repr(_normal(item)) for item in value)
    return sorted(str(value).split(" ")) if value is not None else None


def _shown(value: Any) -> str:
    """A GETUSER field as one line, its rules sorted (the order Redis lists them in varies)."""
    if isinstance(value, list):
        parts = (_shown(item) if not isinstance(item, list) else "(" + _shown(item) + ")" for item in value)
        return " ".join(part for part in parts if part)
    return " ".join(sorted(str(value).split())) if value is not None else ""


def _users_as_declared(client: _Resp, passwords: Mapping[str, str], users: Mapping[str, str], where: Location) -> Iterator[Problem]:
    """Every user the server knows is one the profile declares, with one password (the hash of
    its secret), and exactly what its rules grant: ACL GETUSER of the loaded user against a
    twin made on the same server from the profile's rules, as the render writes them."""
    client.call("AUTH", INSPECTOR, passwords[INSPECTOR])
    known = client.call("ACL", "USERS")
    names = [name for name in known if isinstance(name, str)] if isinstance(known, list) else []
    for name in names:
        if name not in users and name not in ("default", INSPECTOR):
            yield Problem(f"the ACL file has a user {name!r} that the profile does not declare", where)
    for index, (name, rules) in enumerate(users.items()):
        loaded = _getuser(client, name)
        if loaded is None:
            yield Problem(f"the {name} user is not in the ACL file", where)
            continue
        flags = [str(flag) for flag in loaded.get("flags", [])]
        hashes = [str(value) for value in loaded.get("passwords", [])]
        if "nopass" in flags:
            yield Problem(f"the {name} user has nopass: any password logs in as it", where)
        elif not hashes:
            yield Problem(f"the {name} user has no password: nobody can log in as it", where)
        elif len(hashes) > 1:
            yield Problem(f"the {name} user has {len(hashes)} passwords; it may only have the hash of its secret", where)
        elif hashes != [hashlib.sha256(passwords[name].encode()).hexdigest()]:
            yield Problem(f"the {name} user's password is not the one in its secret", where)
        try:
            declared = parse_acl_rules(rules)
        except AclRuleError as problem:
            yield Problem(f"the {name} user's rules in the profile are refused: {problem}", where)
            continue
        twin = f"{TWIN}{index}"
        made = client.call("ACL", "SETUSER", twin, "on", ">" + secrets.token_hex(8), "resetchannels", *declared)
        expected = _getuser(client, twin) if made == "OK" else None
        if expected is None:
            yield Problem(f"redis-server refused the {name} user's rules from the profile: {made}", where)
            continue
        for field in _SHAPE:
            have, want = loaded.get(field), expected.get(field)
            if field == "flags":
                have = [flag for flag in flags if flag != "nopass"]
            if _normal(have) != _normal(want):
                yield Problem(f"the {name} user's {field} on the server are {_shown(have)!r}; its rules in the profile give "
                              f"{_shown(want)!r}", where)
