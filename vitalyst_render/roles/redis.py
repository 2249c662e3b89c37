"""``redis``: a Redis 7 server from the upstream image, configured by a rendered redis.conf.

Everything Redis-specific is decided here once: the redis.conf settings (maxmemory as
a share of the memory limit, with room for the fork of a save), the ACL users
(``users.acl.template`` holds their rules; the filled-in file is a secret), the
redis_exporter sidecar that Prometheus scrapes, the memory budget VR603 checks, the
RDB backup CronJob on Kubernetes, and the Redis alerts and panels. Several Redis
services (a cache and a queue) each get their own of all of it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from ..errors import UsageError
from ..monitoring import RATE, Alert, AlertContext, Panel, Scenario, job_matcher, selector
from ..plan import (
    BackupJob,
    ConfigMount,
    JobMount,
    JobVolume,
    MemoryBudget,
    MemorySource,
    Probe,
    RoleFile,
    ScrapeTarget,
    SecretMount,
    ServicePlan,
    Sidecar,
    backup_claim,
)
from ..profile.models import (
    BackupSchedule,
    ImageRef,
    Model,
    Profile,
    ReferenceProblem,
    Resources,
    SECRETS_DIR,
    ServicePort,
    ServiceSpec,
    UpstreamService,
)
from ..profile.limits import KeepaliveSeconds, maxmemory_problem
from ..profile.types import AclRules, Count, DnsLabel, MetricName, Port, PositiveInt, PositiveNumber, Ratio, memory_bytes
from ..shell import fill
from .base import Role

CONFIG_DIR = "/usr/local/etc/redis"
EXPORTER_SCRATCH = "/tmp"
EXPORTER_PASSWORD_FILE = f"{EXPORTER_SCRATCH}/redis-password.json"
#: Escapes the password for JSON (backslash, double quote) in a variable the shell never exports.
_EXPORTER_START = (
    "umask 077 && password=\"$(sed -e 's/[\\\\\"]/\\\\&/g' {secret})\" && "
    "printf '{{\"%s\": \"%s\"}}' \"$REDIS_ADDR\" \"$password\" > {file} && unset password && exec /redis_exporter"
)
EXPORTER_CATALOGUE = (
    "redis_up", "redis_memory_used_bytes", "redis_memory_max_bytes", "redis_rejected_connections_total",
    "redis_connected_clients", "redis_commands_processed_total", "redis_rdb_last_bgsave_status",
    "redis_evicted_keys_total",
)


class SaveRule(Model):
    seconds: PositiveInt = Field(description="Snapshot when this many seconds have passed ...")
    changes: PositiveInt = Field(description="... and at least this many keys changed.")


class RedisConfig(Model):
    maxmemory_ratio: Ratio = Field(
        default=0.7, description="maxmemory as a share of the container's memory limit; at most 0.75 with persistence."
    )
    maxmemory_policy: Literal[
        "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"
    ] = Field(default="allkeys-lru", description="What Redis evicts at maxmemory.")
    save: list[SaveRule] = Field(default_factory=list, description="RDB snapshot rules; empty disables RDB snapshots.")
    appendonly: bool = Field(default=False, description="Keep an append-only file.")
    appendfsync: Literal["always", "everysec", "no"] = Field(default="everysec", description="When the AOF is fsynced.")
    # 0 turns keepalive off, and a dead client's connection then stays open: refused.
    tcp_keepalive: KeepaliveSeconds = Field(default=300, description="Seconds between TCP keepalives to clients; at least 1.")
    timeout: Count = Field(default=0, description="Close idle clients after this many seconds (0: never).")
    # 0 turns the latency monitor off: a diagnostic no alert depends on, so allowed, and said.
    latency_monitor_threshold: Count = Field(
        default=100, description="Record events slower than this (ms); 0 turns the latency monitor off."
    )
    evictions_alert_rate: PositiveNumber = Field(
        default=50,
        description="Under an allkeys-* policy, where a full cache is the normal state: keys evicted per second, "
        "sustained for monitoring.alert_for, above which RedisEvictingHeavily fires (the working set no longer fits).",
    )

    @property
    def evicts_any_key(self) -> bool:
        """allkeys-*: Redis makes room by evicting, so reaching maxmemory is normal."""
        return self.maxmemory_policy.startswith("allkeys-")

    @property
    def persists(self) -> bool:
        return bool(self.save) or self.appendonly

    @model_validator(mode="after")
    def _fork_headroom(self) -> RedisConfig:
        if self.persists and self.maxmemory_ratio > 0.75:
            raise PydanticCustomError(
                "vr",
                "maxmemory_ratio {r} leaves no room for the fork of a save; at most 0.75 with persistence",
                {"r": self.maxmemory_ratio},
            )
        return self


class RedisExporter(Model):
    image: ImageRef = Field(description="The redis_exporter image that runs beside the server.")
    port: Port = Field(default=9121, description="Port the exporter serves metrics on.")
    user: DnsLabel = Field(default="metrics", description="The ACL user the exporter logs in as; one of users.")
    secret: DnsLabel = Field(description="Secret holding that user's password.")
    catalogue: list[MetricName] | None = Field(
        default=None, description="Metrics rules and panels may use; unset, redis_exporter's usual ones."
    )


class RedisBackup(BackupSchedule):
    user: DnsLabel = Field(default="backup", description="The ACL user that copies the RDB file (SYNC only); one of users.")
    secret: DnsLabel = Field(description="Secret holding that user's password.")


class RedisService(UpstreamService):
    kind: Literal["redis"] = Field(description="A Redis 7 server from the upstream image.")
    config: RedisConfig = Field(default_factory=RedisConfig, description="redis.conf settings.")
    users: dict[DnsLabel, AclRules] = Field(
        description="ACL users and their rules (without passwords); the default user is always off."
    )
    acl_secret: DnsLabel = Field(description="Secret holding the filled-in ACL file (users.acl) with every password hash.")
    exporter: RedisExporter | None = Field(default=None, description="A redis_exporter sidecar that Prometheus scrapes.")
    backup: RedisBackup | None = Field(
        default=None, description="Kubernetes: RDB copies over the replication protocol (required when it persists)."
    )

    def references(self, name: str, profile: Profile) -> Iterator[ReferenceProblem]:
        yield from super().references(name, profile)
        if "default" in self.users:
            yield ReferenceProblem(("users", "default"), "the default user is always off; name your users")
        if self.storage is None:
            yield ReferenceProblem((), f"a {self.kind} service keeps data: it needs a storage section")
        too_small = maxmemory_problem(self.config.maxmemory_ratio, self.resources.limits.memory, maxmemory(self))
        if too_small is not None:
            yield ReferenceProblem(*too_small)
        if self.metrics is not None:
            yield ReferenceProblem(("metrics",), "Redis is scraped through its exporter; set exporter instead of metrics")
        if not self.ports:
            yield ReferenceProblem(("ports",), "Redis needs the port it listens on")
        yield from profile.secret_reference(("acl_secret",), self.acl_secret)
        for part, user, secret in (
            ("exporter", self.exporter.user if self.exporter else None, self.exporter.secret if self.exporter else None),
            ("backup", self.backup.user if self.backup else None, self.backup.secret if self.backup else None),
        ):
            if user is not None and user not in self.users:
                yield ReferenceProblem((part, "user"), f"{user!r} is not one of this service's users")
            if secret is not None:
                yield from profile.secret_reference((part, "secret"), secret)
        if profile.on_kubernetes and self.config.persists and self.backup is None:
            yield ReferenceProblem((), "a Redis that persists on Kubernetes needs a backup section (or turn persistence off)")


_RDB = """set -euo pipefail
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p /backups/{name}
redis-cli --no-auth-warning -h {name} -p {port} --user {user} --askpass --rdb "/backups/{name}/dump-$stamp.rdb" < /run/secrets/{secret}
find /backups/{name} -name 'dump-*.rdb' -mtime +{days} -delete
"""


def _redis(service: ServiceSpec) -> RedisService:
    assert isinstance(service, RedisService)
    return service


def _port(service: RedisService) -> int:
    return service.ports[0].port


def conf_path(name: str) -> str:
    return f"redis/{name}.conf"


def expected_settings(service: RedisService) -> dict[str, str]:
    """What CONFIG GET must return: the profile's intent, which redis.conf renders."""
    config = service.config
    return {
        "maxmemory": str(maxmemory(service)),
        "maxmemory-policy": config.maxmemory_policy,
        "appendonly": "yes" if config.appendonly else "no",
        "appendfsync": config.appendfsync,
        "tcp-keepalive": str(config.tcp_keepalive),
        "timeout": str(config.timeout),
        "latency-monitor-threshold": str(config.latency_monitor_threshold),
        "protected-mode": "yes",
        "save": " ".join(f"{rule.seconds} {rule.changes}" for rule in config.save),
    }


def maxmemory(service: RedisService) -> int:
    return int(memory_bytes(service.resources.limits.memory) * service.config.maxmemory_ratio)


def acl_lines(users: Mapping[str, str], password_hash: Callable[[str], str]) -> tuple[str, ...]:
    """The ACL file's users: the default user off, each named user with its hash and rules."""
    return ("user default off", *(f"user {name} on #{password_hash(name)} resetchannels {rules}" for name, rules in users.items()))


def acl_placeholder(user: str) -> str:
    return f"<sha256 of {user}'s password>"


def filled_acl(name: str, service: RedisService, passwords: Mapping[str, str]) -> str:
    """The ACL file of ``service`` with each user's SHA-256 password hash: the secret's content
    (the ``acl_secret``).

    ``passwords`` maps every ACL user to its password; the result holds hashes only.
    """
    missing = [user for user in service.users if not passwords.get(user)]
    if missing:
        raise UsageError(f"no password for redis service {name!r} user(s) {', '.join(missing)}")
    lines = acl_lines(service.users, lambda user: hashlib.sha256(passwords[user].encode()).hexdigest())
    # No comment header: Redis refuses an ACL file with any line that is not a user.
    return "\n".join(lines) + "\n"


class RedisRole(Role):
    kind: ClassVar[str] = "redis"
    model = RedisService
    http_probe = "bash"

    def args(self, name: str, service: ServiceSpec) -> tuple[str, ...]:
        return ("redis-server", f"{CONFIG_DIR}/redis.conf")

    def secrets(self, name: str, service: ServiceSpec) -> tuple[str, ...]:
        return (_redis(service).acl_secret,)

    def files(self, name: str, service: ServiceSpec, profile: Profile) -> tuple[RoleFile, ...]:
        redis = _redis(service)
        assert redis.storage is not None
        conf: dict[str, Any] = {
            "config": redis.config,
            "port": _port(redis),
            "maxmemory": maxmemory(redis),
            "limit": redis.resources.limits.memory,
            "aclfile": f"{SECRETS_DIR}/{redis.acl_secret}",
            "dir": redis.storage.mount,
            "version": redis.image.tag,
            "expected": expected_settings(redis),
            "users": dict(redis.users),
            "exporter_user": redis.exporter.user if redis.exporter else None,
            "backup_user": redis.backup.user if redis.backup else None,
        }
        acl = {"lines": acl_lines(redis.users, acl_placeholder), "acl_secret": redis.acl_secret}
        return (
            RoleFile(conf_path(name), "redis/redis.conf.j2", "conf", "redis.conf", conf, ConfigMount(f"{name}-conf", CONFIG_DIR, "redis.conf")),
            RoleFile(f"redis/{name}.users.acl.template", "redis/users.acl.template.j2", "text", "redis.acl", acl),
        )

    def sidecars(self, name: str, service: ServiceSpec, profile: Profile) -> tuple[Sidecar, ...]:
        redis = _redis(service)
        exporter = redis.exporter
        if exporter is None:
            return ()
        secret = exporter.secret
        env = {
            "REDIS_USER": exporter.user,
            "REDIS_PASSWORD_FILE": EXPORTER_PASSWORD_FILE,
            "REDIS_EXPORTER_WEB_LISTEN_ADDRESS": f":{exporter.port}",
        }
        url = f"http://127.0.0.1:{exporter.port}/health"
        return (
            Sidecar(
                name="metrics",
                compose_name=f"{name}-exporter",
                image=exporter.image.reference,
                # redis_exporter reads a password file only as JSON ({address: password}): write
                # one from the plain secret into its private tmpfs. An exported REDIS_PASSWORD
                # would sit in /proc/PID/environ, and a flag on the command line in ps.
                command=("/bin/sh", "-c", fill(_EXPORTER_START, secret=f"{SECRETS_DIR}/{secret}", file=EXPORTER_PASSWORD_FILE)),
                scratch_paths=(EXPORTER_SCRATCH,),
                port=ServicePort(name="metrics", port=exporter.port),
                env_kubernetes={"REDIS_ADDR": f"redis://127.0.0.1:{_port(redis)}", **env},
                env_compose={"REDIS_ADDR": f"redis://{name}:{_port(redis)}", **env},
                secrets=(SecretMount(secret, f"{SECRETS_DIR}/{secret}", profile.secrets[secret].key),),
                probe=Probe("http", exporter.port, "/health", ("wget", "-q", "-O", "/dev/null", url), "10s", "5s", "10s", 3),
                resources=Resources.model_validate({"requests": {"cpu": "50m", "memory": "32Mi"}, "limits": {"cpu": "200m", "memory": "64Mi"}}),
            ),
        )

    def scrape(self, name: str, service: ServiceSpec) -> ScrapeTarget | None:
        exporter = _redis(service).exporter
        if exporter is None:
            return None
        catalogue = tuple(exporter.catalogue) if exporter.catalogue is not None else EXPORTER_CATALOGUE
        return ScrapeTarget(name, name, exporter.port, "/metrics", f"{name}-exporter", catalogue)

    def memory(self, name: str, service: ServiceSpec, profile: Profile) -> MemoryBudget:
        redis = _redis(service)
        if redis.config.persists:
            return MemoryBudget((MemorySource("config", "maxmemory", "redis-size", conf_path(name)),), 0.75,
                                "maxmemory while it persists (a save forks and copies pages)")
        return MemoryBudget((MemorySource("config", "maxmemory", "redis-size", conf_path(name)),), 1.0, "maxmemory")

    def backups(self, name: str, service: ServiceSpec, profile: Profile) -> tuple[BackupJob, ...]:
        redis = _redis(service)
        backup = redis.backup
        if backup is None or not profile.on_kubernetes:
            return ()
        secret_key = profile.secrets[backup.secret].key
        return (
            BackupJob(
                service=name,
                timing=backup,
                comment=f'An online RDB copy over the replication protocol, as the ACL user "{backup.user}".',
                starting_deadline_seconds=600,
                backoff_limit=2,
                active_deadline_seconds=1800,
                container="rdb",
                image=redis.image.reference,
                script=fill(_RDB, name=name, secret=backup.secret, port=_port(redis), user=backup.user, days=backup.retention_days),
                resources=Resources.model_validate({"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}),
                mounts=(JobMount("backups", "/backups"), JobMount("secrets", SECRETS_DIR, read_only=True)),
                volumes=(JobVolume("backups", claim=backup_claim(name)),
                         JobVolume("secrets", secrets=(SecretMount(backup.secret, f"{SECRETS_DIR}/{backup.secret}", secret_key),))),
                calls_service=True,
            ),
        )

    def alerts(self, services: Sequence[ServicePlan], context: AlertContext) -> list[Alert]:
        scraped = [(s, s.scrape) for s in services if s.scrape is not None]
        if not scraped:
            return []
        jobs = job_matcher([t.job for _, t in scraped])
        instance = {"job": scraped[0][1].job, "instance": context.naming.instance(scraped[0][1].port)}
        sel = selector(instance)
        alerts = [
            Alert(
                # The exporter answers (up == 1) but cannot reach the server behind it:
                # TargetDown stays silent, so only redis_up says Redis is gone.
                "RedisDown", f"redis_up{{{jobs}}} == 0", context.alert_for, "critical",
                "Redis is down behind a running exporter",
                "redis_exporter {{ $labels.instance }} cannot reach or log in to its Redis server.",
                Scenario({f"up{sel}": "1x30", f"redis_up{sel}": "1x5 0x25"}, "15m", [{**instance, "severity": "critical"}]),
                # One failed scrape of the server, shorter than the alert's for: a blip.
                Scenario({f"up{sel}": "1x30", f"redis_up{sel}": "1x10 0 1x19"}, "15m"),
            ),
        ]
        bounded = [(s, t) for s, t in scraped if not _redis(s.spec).config.evicts_any_key]
        if bounded:
            # noeviction refuses writes at maxmemory, and volatile-* once no key with a TTL
            # is left: nearing maxmemory is news.
            service, target = bounded[0]
            near = {"job": target.job, "instance": context.naming.instance(target.port)}
            near_sel = selector(near)
            limit = 700 * 2**20
            matcher = job_matcher([t.job for _, t in bounded])
            alerts.append(Alert(
                "RedisMemoryNearMax",
                f"redis_memory_used_bytes{{{matcher}}} / (redis_memory_max_bytes{{{matcher}}} > 0) > 0.9", context.alert_for, "warning",
                "Redis memory above 90% of maxmemory",
                "Redis {{ $labels.instance }} uses {{ $value | humanizePercentage }} of maxmemory; under its policy writes fail "
                "with OOM errors at 100%.",
                Scenario({f"redis_memory_used_bytes{near_sel}": f"{int(limit * 0.95)}x30", f"redis_memory_max_bytes{near_sel}": f"{limit}x30"},
                         "15m", [{**near, "severity": "warning"}]),
                Scenario({f"redis_memory_used_bytes{near_sel}": f"{int(limit * 0.5)}x30", f"redis_memory_max_bytes{near_sel}": f"{limit}x30"}, "15m"),
                value=0.95,
            ))
        evicting = [(s, t) for s, t in scraped if _redis(s.spec).config.evicts_any_key]
        if evicting:
            # A full cache is the normal state under allkeys-*: only eviction churn says the
            # working set no longer fits.
            service, target = evicting[0]
            rate = _redis(service.spec).config.evictions_alert_rate
            churn = {"job": target.job, "instance": context.naming.instance(target.port)}
            churn_sel = selector(churn)
            thresholds = " or ".join(
                f'rate(redis_evicted_keys_total{selector({"job": t.job})}[{RATE}]) > {_redis(s.spec).config.evictions_alert_rate:g}'
                for s, t in evicting
            )
            alerts.append(Alert(
                "RedisEvictingHeavily", thresholds, context.alert_for, "warning",
                "Redis evicts keys faster than its cache can hold them",
                "Redis {{ $labels.instance }} has evicted more than " + f"{rate:g}" + " keys per second for " + context.alert_for
                + "; the cache no longer holds its working set: raise maxmemory or the memory limit.",
                Scenario({f"redis_evicted_keys_total{churn_sel}": f"0+{_series_step(rate * 2 * 60)}x30"}, "15m", [{**churn, "severity": "warning"}]),
                # Full memory with a trickle of evictions is a cache doing its job.
                Scenario({f"redis_evicted_keys_total{churn_sel}": f"0+{_series_step(rate * 60 / 10)}x30",
                          f"redis_memory_used_bytes{churn_sel}": f"{700 * 2**20}x30",
                          f"redis_memory_max_bytes{churn_sel}": f"{700 * 2**20}x30"}, "15m"),
            ))
        alerts.append(Alert(
            "RedisRejectedConnections",
            f"increase(redis_rejected_connections_total{{{jobs}}}[{RATE}]) > 0", "0m", "warning",
            "Redis rejected connections",
            "Redis {{ $labels.instance }} refused client connections in the last " + RATE + " (maxclients reached).",
            Scenario({f"redis_rejected_connections_total{sel}": "0x10 3x20"}, "12m", [{**instance, "severity": "warning"}]),
            Scenario({f"redis_rejected_connections_total{sel}": "12x40"}, "30m"),
        ))
        return alerts

    def panels(self, services: Sequence[ServicePlan], context: AlertContext) -> list[Panel]:
        scraped = [s.scrape for s in services if s.scrape is not None]
        if not scraped:
            return []
        jobs = job_matcher([t.job for t in scraped])
        return [
            Panel("Redis memory / maxmemory", "percentunit", f"redis_memory_used_bytes{{{jobs}}} / (redis_memory_max_bytes{{{jobs}}} > 0)", "{{instance}}"),
            Panel("Redis up", "short", f"redis_up{{{jobs}}}", "{{instance}}"),
            Panel("Redis evictions / s", "short", f"rate(redis_evicted_keys_total{{{jobs}}}[{RATE}])", "{{instance}}"),
        ]


def _series_step(per_minute: float) -> str:
    """A promtool series increment in plain decimals: a rate below one key a minute steps by a
    fraction (truncated to 0 it would never fire), and no exponent reaches the series notation."""
    return f"{per_minute:.12f}".rstrip("0").rstrip(".") or "0"
