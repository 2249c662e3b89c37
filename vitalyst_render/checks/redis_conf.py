"""VR501–VR504: redis.conf validated against what Redis 7.0 accepts, offline."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from .. import redisconf

from .base import Problem, Severity, check
from .context import CheckContext
from .examples import ADD_CACHE, Edit, Expect, Fail, Pass

#: The plan's files in this format are what these checks read.
FORMAT = "redis.conf"
YESNO = ("yes", "no")
POLICIES = ("volatile-lru", "allkeys-lru", "volatile-lfu", "allkeys-lfu", "volatile-random", "allkeys-random", "volatile-ttl", "noeviction")

# name: (minimum arguments, maximum arguments or None for any, value kind)
DIRECTIVES: dict[str, tuple[int, int | None, object]] = {
    "bind": (1, None, "address"),
    "port": (1, 1, ("int", 0, 65535)),
    "protected-mode": (1, 1, YESNO),
    "tcp-backlog": (1, 1, ("int", 0, 65535)),
    "tcp-keepalive": (1, 1, ("int", 0, 2**31)),
    "timeout": (1, 1, ("int", 0, 2**31)),
    "unixsocket": (1, 1, "path"),
    "unixsocketperm": (1, 1, "str"),
    "daemonize": (1, 1, YESNO),
    "supervised": (1, 1, ("no", "upstart", "systemd", "auto")),
    "pidfile": (1, 1, "path"),
    "loglevel": (1, 1, ("debug", "verbose", "notice", "warning", "nothing")),
    "logfile": (1, 1, "str"),
    "databases": (1, 1, ("int", 1, 2**31)),
    "always-show-logo": (1, 1, YESNO),
    "save": (1, None, "save"),
    "stop-writes-on-bgsave-error": (1, 1, YESNO),
    "rdbcompression": (1, 1, YESNO),
    "rdbchecksum": (1, 1, YESNO),
    "dbfilename": (1, 1, "str"),
    "dir": (1, 1, "path"),
    "aclfile": (1, 1, "path"),
    "requirepass": (1, 1, "str"),
    "maxclients": (1, 1, ("int", 1, 2**31)),
    "maxmemory": (1, 1, "memory"),
    "maxmemory-policy": (1, 1, POLICIES),
    "maxmemory-samples": (1, 1, ("int", 1, 64)),
    "lazyfree-lazy-eviction": (1, 1, YESNO),
    "lazyfree-lazy-expire": (1, 1, YESNO),
    "appendonly": (1, 1, YESNO),
    "appendfilename": (1, 1, "str"),
    "appenddirname": (1, 1, "str"),
    "appendfsync": (1, 1, ("always", "everysec", "no")),
    "no-appendfsync-on-rewrite": (1, 1, YESNO),
    "auto-aof-rewrite-percentage": (1, 1, ("int", 0, 2**31)),
    "auto-aof-rewrite-min-size": (1, 1, "memory"),
    "aof-use-rdb-preamble": (1, 1, YESNO),
    "slowlog-log-slower-than": (1, 1, ("int", -1, 2**62)),
    "slowlog-max-len": (1, 1, ("int", 0, 2**62)),
    "latency-monitor-threshold": (1, 1, ("int", 0, 2**62)),
    "notify-keyspace-events": (1, 1, "str"),
    "io-threads": (1, 1, ("int", 1, 128)),
    "rename-command": (2, 2, "str"),
    "include": (1, 1, "path"),
    "loadmodule": (1, None, "path"),
    "user": (1, None, "str"),
    "replicaof": (2, 2, "str"),
    "masterauth": (1, 1, "str"),
    "masteruser": (1, 1, "str"),
    "replica-read-only": (1, 1, YESNO),
    "enable-debug-command": (1, 1, ("yes", "no", "local")),
    "enable-module-command": (1, 1, ("yes", "no", "local")),
    "enable-protected-configs": (1, 1, ("yes", "no", "local")),
}
REPEATABLE = {"save", "rename-command", "include", "loadmodule", "user"}


CONF = "redis/redis.conf"
CACHE_CONF = "redis/cache.conf"
_LAST = "latency-monitor-threshold 100\n"  # the last line of the rendered redis.conf

EXAMPLES_VR501 = (
    Fail("a misspelt directive: maxmemmory", edits=[Edit(CONF, "maxmemory 751619276", "maxmemmory 751619276")],
         expect=[Expect(CONF, "unknown directive 'maxmemmory'")]),
    Fail("port with no value", edits=[Edit(CONF, "port 6379\n", "port\n")],
         expect=[Expect(CONF, "port takes 1 argument(s), got 0")]),
    Fail("a double quote that never closes", edits=[Edit(CONF, "dir /data", 'dir "/data')],
         expect=[Expect(CONF, "unbalanced double quote")]),
    Fail("a second Redis added in the profile: its own redis/cache.conf is read too",
         overlay=ADD_CACHE, edits=[Edit(CACHE_CONF, "appendonly no", "appendonly")],
         expect=[Expect(CACHE_CONF, "appendonly takes 1 argument(s), got 0")]),
    Pass("rename-command with an empty quoted name: two arguments, one of them empty",
         edits=[Edit(CONF, _LAST, _LAST + 'rename-command FLUSHALL ""\n')]),
)

EXAMPLES_VR502 = (
    Fail("maxmemory in a Kubernetes unit (1Gi), which Redis does not read",
         edits=[Edit(CONF, "maxmemory 751619276", "maxmemory 1Gi")],
         expect=[Expect(CONF, "maxmemory must be a size such as 700mb or 734003200, got '1Gi'")]),
    Fail("appendfsync outside its enum and a port beyond 65535",
         edits=[Edit(CONF, "appendfsync everysec", "appendfsync sometimes"), Edit(CONF, "port 6379", "port 70000")],
         expect=[Expect(CONF, "appendfsync must be one of always, everysec, no, got 'sometimes'"),
                 Expect(CONF, "port must be an integer from 0 to 65535, got '70000'")]),
    Fail("a save rule without its count of changes", edits=[Edit(CONF, "save 900 1\n", "save 900\n")],
         expect=[Expect(CONF, "save takes pairs of <seconds> <changes>, got '900'")]),
    Pass("maxmemory in Redis's own units (700mb)", edits=[Edit(CONF, "maxmemory 751619276", "maxmemory 700mb")]),
    Pass('a cache added in the profile turns snapshots off with save ""', overlay=ADD_CACHE),
)

EXAMPLES_VR503 = (
    Fail("a second maxmemory line, which silently wins", edits=[Edit(CONF, _LAST, _LAST + "maxmemory 1gb\n")],
         expect=[Expect(CONF, "maxmemory is set again (first on line 15)")]),
    Pass("save and rename-command may repeat",
         edits=[Edit(CONF, _LAST, _LAST + 'rename-command FLUSHALL ""\nrename-command KEYS ""\n')]),
)

EXAMPLES_VR504 = (
    Fail("protected mode off, and requirepass instead of the ACL file",
         edits=[Edit(CONF, "protected-mode yes", "protected-mode no"), Edit(CONF, "aclfile /run/secrets/redis-acl", "requirepass hunter2")],
         expect=[Expect(CONF, "requirepass puts a password in redis.conf"),
                 Expect(CONF, "Redis listens beyond loopback without an ACL file"),
                 Expect(CONF, "protected-mode is off on a non-loopback bind")]),
    Fail("a user directive and masterauth carrying passwords",
         edits=[Edit(CONF, _LAST, _LAST + "user default on >hunter2 ~* +@all\nmasterauth hunter2\n")],
         expect=[Expect(CONF, "a user directive carries a password"), Expect(CONF, "masterauth puts a password in redis.conf")]),
    Pass("bound to loopback only: no ACL file or protected mode needed",
         edits=[Edit(CONF, "bind * -::*", "bind 127.0.0.1 -::1"), Edit(CONF, "aclfile /run/secrets/redis-acl\n", ""),
                Edit(CONF, "protected-mode yes", "protected-mode no")]),
    Pass("a second Redis added in the profile authenticates by its own ACL secret", overlay=ADD_CACHE),
)


def _configs(ctx: CheckContext) -> Iterator[tuple[str, list[redisconf.Directive] | redisconf.ConfSyntaxError]]:
    """(path, directives or the syntax error) of every rendered redis.conf."""
    for _, file in ctx.plan.files_of_format(FORMAT):
        artefact = ctx.artefact(file.path)
        if artefact is None:
            continue
        try:
            yield file.path, redisconf.parse(artefact.text)
        except redisconf.ConfSyntaxError as exc:
            yield file.path, exc


@check("VR501", "redis-conf-directives", "redis.conf has an unknown directive or the wrong number of arguments", Severity.ERROR,
       examples=EXAMPLES_VR501)
def directives(ctx: CheckContext) -> Iterable[Problem]:
    """Every line is a directive Redis 7.0 knows (from our table of the directives a
    server config uses), with an argument count it accepts, and the quoting parses.
    Redis refuses to start on an unknown directive, and tells you only at boot.

    Remediation: fix ``templates/redis/redis.conf.j2``.
    """
    for conf, parsed in _configs(ctx):
        if isinstance(parsed, redisconf.ConfSyntaxError):
            yield Problem(str(parsed), ctx.location(conf, parsed.line))
            continue
        for directive in parsed:
            spec = DIRECTIVES.get(directive.name)
            if spec is None:
                yield Problem(f"unknown directive {directive.name!r}", ctx.location(conf, directive.line))
                continue
            low, high, _ = spec
            count = len(directive.arguments)
            if count < low or (high is not None and count > high):
                expected = str(low) if low == high else f"{low}..{high if high is not None else 'n'}"
                yield Problem(f"{directive.name} takes {expected} argument(s), got {count}", ctx.location(conf, directive.line))


@check("VR502", "redis-conf-values", "redis.conf directive has an invalid value", Severity.ERROR, examples=EXAMPLES_VR502)
def values(ctx: CheckContext) -> Iterable[Problem]:
    """Arguments have the type Redis expects: yes/no flags, enums such as
    ``maxmemory-policy`` and ``appendfsync``, memory sizes with Redis's units
    (``1k`` = 1000, ``1kb`` = 1024), integers in range, and ``save`` as pairs of
    seconds and changes (or one empty string to turn snapshots off).

    Remediation: fix the value in the Redis service's ``config`` in the profile, or the template.
    """
    for conf, parsed in _configs(ctx):
        if not isinstance(parsed, list):
            continue
        for directive in parsed:
            spec = DIRECTIVES.get(directive.name)
            if spec is None or not directive.arguments:
                continue
            kind = spec[2]
            where = ctx.location(conf, directive.line)
            value = directive.arguments[0]
            if isinstance(kind, tuple) and kind and kind[0] == "int":
                _, low, high = kind
                if not re.fullmatch(r"-?\d+", value) or not low <= int(value) <= high:
                    yield Problem(f"{directive.name} must be an integer from {low} to {high}, got {value!r}", where)
            elif isinstance(kind, tuple):
                if value.lower() not in kind:
                    yield Problem(f"{directive.name} must be one of {', '.join(kind)}, got {value!r}", where)
            elif kind == "memory" and redisconf.memory(value) is None:
                yield Problem(f"{directive.name} must be a size such as 700mb or 734003200, got {value!r}", where)
            elif kind == "save":
                arguments = directive.arguments
                if arguments == ("",):
                    continue
                if len(arguments) % 2 or not all(re.fullmatch(r"\d+", a) for a in arguments):
                    yield Problem(f"save takes pairs of <seconds> <changes>, got {' '.join(arguments)!r}", where)


@check("VR503", "redis-conf-duplicates", "redis.conf sets a directive twice", Severity.ERROR, examples=EXAMPLES_VR503)
def duplicates(ctx: CheckContext) -> Iterable[Problem]:
    """A directive appears once (``save``, ``rename-command``, ``include``,
    ``loadmodule`` and ``user`` may repeat). Redis silently keeps the last value, so a
    second ``maxmemory`` undoes the first without a word.

    Remediation: remove the duplicate from the template.
    """
    for conf, parsed in _configs(ctx):
        if not isinstance(parsed, list):
            continue
        first: dict[str, int] = {}
        for directive in parsed:
            if directive.name in REPEATABLE:
                continue
            if directive.name in first:
                yield Problem(f"{directive.name} is set again (first on line {first[directive.name]})",
                              ctx.location(conf, directive.line), related=(ctx.location(conf, first[directive.name]),))
            else:
                first[directive.name] = directive.line


@check("VR504", "redis-conf-exposure", "redis.conf exposes an unauthenticated or passworded server", Severity.ERROR,
       examples=EXAMPLES_VR504)
def exposure(ctx: CheckContext) -> Iterable[Problem]:
    """Redis listens beyond loopback only with protected mode on and authentication by
    ACL file, never with ``requirepass`` (a password in the config), and never with a
    ``user`` directive carrying a password. Binding ``0.0.0.0`` or ``*`` with
    protected mode off and no ACL file is an open database.

    Remediation: keep ``protected-mode yes`` and ``aclfile`` pointing at the mounted
    secret (the service's ``acl_secret``).
    """
    for conf, parsed in _configs(ctx):
        if not isinstance(parsed, list):
            continue
        by_name = {d.name: d for d in parsed}
        for directive in parsed:
            if directive.name in ("requirepass", "masterauth"):
                yield Problem(f"{directive.name} puts a password in redis.conf", ctx.location(conf, directive.line),
                              hint="use an ACL file from a secret")
            if directive.name == "user" and any(a.startswith((">", "#")) for a in directive.arguments):
                yield Problem("a user directive carries a password", ctx.location(conf, directive.line))
        bind = by_name.get("bind")
        loopback_only = bind is not None and all(a.lstrip("-") in ("127.0.0.1", "::1", "localhost") for a in bind.arguments)
        protected = by_name.get("protected-mode")
        if not loopback_only and "aclfile" not in by_name:
            line = bind.line if bind else 1
            yield Problem("Redis listens beyond loopback without an ACL file", ctx.location(conf, line))
        if protected is not None and protected.arguments[:1] == ("no",) and not loopback_only:
            yield Problem("protected-mode is off on a non-loopback bind", ctx.location(conf, protected.line))
