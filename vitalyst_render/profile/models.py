"""The typed shape of an environment profile.

Every model is frozen and forbids unknown keys, and every field carries a description:
the JSON schema in ``docs/profile.schema.json`` is generated from these classes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .types import (
    AbsPath,
    CheckId,
    CpuQuantity,
    CronSchedule,
    Digest,
    DnsLabel,
    Duration,
    EnvName,
    EnvValue,
    HttpUrl,
    ImageName,
    ImageTag,
    IntAtLeast,
    MemoryQuantity,
    NonEmptyText,
    Port,
    Ratio,
    RelPath,
    Text,
    Uid,
    UrlPath,
)

#: The stack's services. Templates know each one's role, so the set is fixed.
STACK_SERVICES = ("backend", "frontend", "neo4j", "redis")
APP_SERVICES = ("backend", "frontend")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


# -- project and build -----------------------------------------------------------------


class Project(Model):
    name: DnsLabel = Field(description="Short name of the stack; prefixes stacks, namespaces and labels.")
    description: NonEmptyText("a description") = Field(description="One-line description, used in OCI image labels.")
    version: NonEmptyText("a version string") = Field(description="Application release version, used as OCI label.")
    vendor: NonEmptyText("a vendor name") = Field(description="Organisation that ships the images (OCI vendor label).")
    source: NonEmptyText("a source URL") = Field(description="Source repository URL (OCI source label).")
    licenses: NonEmptyText("an SPDX license expression") = Field(description="SPDX license expression (OCI licenses label).")


class BaseImage(Model):
    image: ImageName = Field(description="Image repository, e.g. python or node.")
    tag: ImageTag = Field(description="Image tag; never 'latest'.")
    digest: Digest | None = Field(default=None, description="Content digest that pins the tag; required in prod.")

    @property
    def reference(self) -> str:
        return f"{self.image}:{self.tag}" + (f"@{self.digest}" if self.digest else "")


class RuntimeUser(Model):
    uid: Uid = Field(description="Numeric user id that containers run as (≥ 10000, outside host ranges).")
    gid: Uid = Field(description="Numeric group id that containers run as (≥ 10000).")
    name: DnsLabel = Field(description="Name of the account created in the images (no login shell).")


class Build(Model):
    user: RuntimeUser = Field(description="The unprivileged account every image and pod runs as.")
    base_images: dict[DnsLabel, BaseImage] = Field(
        description="Base images by role (python, node); services name the one they build on."
    )


# -- services --------------------------------------------------------------------------


class ImageRef(Model):
    repository: ImageName = Field(description="Registry path of the service image.")
    tag: ImageTag = Field(description="Image tag the stack deploys.")
    digest: Digest | None = Field(default=None, description="Content digest that pins the image; required in prod.")

    @property
    def reference(self) -> str:
        return f"{self.repository}:{self.tag}" + (f"@{self.digest}" if self.digest else "")


class ServicePort(Model):
    name: DnsLabel = Field(description="Port name (IANA service name style, at most 15 characters).")
    port: Port = Field(description="Port the process listens on inside the container.")
    protocol: Literal["TCP", "UDP"] = Field(default="TCP", description="Transport protocol.")

    @field_validator("name")
    @classmethod
    def _short(cls, value: str) -> str:
        if len(value) > 15:
            raise PydanticCustomError("vr", "expected a port name of at most 15 characters, got {n}", {"n": len(value)})
        return value


class ResourceAmounts(Model):
    cpu: CpuQuantity = Field(description='CPU in Kubernetes quantity form ("500m", "2").')
    memory: MemoryQuantity = Field(description='Memory in Kubernetes quantity form ("512Mi", "4Gi").')


class Resources(Model):
    requests: ResourceAmounts = Field(description="Guaranteed share: k8s requests and compose reservations.")
    limits: ResourceAmounts = Field(description="Hard ceiling: k8s limits and compose limits.")


class Health(Model):
    kind: Literal["http", "tcp", "command"] = Field(description="How the service is probed.")
    port: Port | None = Field(default=None, description="Port probed by http and tcp checks.")
    path: UrlPath | None = Field(default=None, description="HTTP path probed by http checks, e.g. /health.")
    command: list[Text] | None = Field(default=None, description="Argument vector run by command checks.")
    interval: Duration = Field(description="Time between probes.")
    timeout: Duration = Field(description="Time after which one probe counts as failed.")
    retries: IntAtLeast(1) = Field(description="Consecutive failures before the container is unhealthy.")
    start_period: Duration = Field(description="Grace period after start during which failures do not count.")

    @model_validator(mode="after")
    def _complete(self) -> Health:
        if self.kind in ("http", "tcp") and self.port is None:
            raise PydanticCustomError("vr", "a {kind} health check needs a port", {"kind": self.kind})
        if self.kind == "http" and self.path is None:
            raise PydanticCustomError("vr", "an http health check needs a path, e.g. /health", {})
        if self.kind == "command" and not self.command:
            raise PydanticCustomError("vr", "a command health check needs a non-empty command", {})
        return self


class AppBuild(Model):
    base: DnsLabel = Field(description="Key into build.base_images for the builder and runtime stages.")
    context: RelPath = Field(
        description="Folder of the app's sources, relative to the compose file (out/<profile>/compose/)."
    )
    command: list[Text] = Field(description="Exec-form command of the final stage.")


class Metrics(Model):
    port: Port = Field(description="Port that serves Prometheus metrics.")
    path: UrlPath = Field(default="/metrics", description="HTTP path of the metrics endpoint.")
    exporter: ImageRef | None = Field(
        default=None, description="Sidecar exporter image, for services with no metrics endpoint of their own."
    )
    exporter_secret: DnsLabel | None = Field(
        default=None, description="Secret holding the password the exporter authenticates with."
    )


class Autoscaling(Model):
    min_replicas: IntAtLeast(1) = Field(description="Fewest replicas the autoscaler keeps.")
    max_replicas: IntAtLeast(1) = Field(description="Most replicas the autoscaler may run.")
    cpu_utilization: IntAtLeast(1) = Field(
        default=70, description="Target average CPU use, in percent of the request, that the autoscaler steers to."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Autoscaling:
        if self.max_replicas < self.min_replicas:
            raise PydanticCustomError("vr", "max_replicas ({mx}) is below min_replicas ({mn})", {"mx": self.max_replicas, "mn": self.min_replicas})
        return self


class ImageUser(Model):
    uid: IntAtLeast(1) = Field(description="Numeric user id of the upstream image's own account (never 0).")
    gid: IntAtLeast(1) = Field(description="Numeric group id of that account.")


class Storage(Model):
    size: MemoryQuantity = Field(description="Size of the persistent volume per replica.")
    mount: AbsPath = Field(description="Path where the data volume is mounted.")


class Service(Model):
    image: ImageRef = Field(description="Image the service runs.")
    build: AppBuild | None = Field(default=None, description="How the image is built; only for backend and frontend.")
    ports: list[ServicePort] = Field(min_length=1, description="Ports the service listens on; the first is primary.")
    replicas: IntAtLeast(1) = Field(description="Number of running copies.")
    resources: Resources = Field(description="CPU and memory requests and limits.")
    health: Health = Field(description="The one health definition behind HEALTHCHECK, compose healthcheck and probes.")
    env: dict[EnvName, EnvValue] = Field(default_factory=dict, description="Plain environment, delivered verbatim.")
    secrets: list[DnsLabel] = Field(default_factory=list, description="Names of top-level secrets mounted into the service.")
    depends_on: list[DnsLabel] = Field(default_factory=list, description="Services this one calls (the allowed edges).")
    egress_ports: list[Port] = Field(
        default_factory=list,
        description="TCP ports this service may reach outside the cluster (e.g. 443 for Auth0); nothing else leaves.",
    )
    metrics: Metrics | None = Field(default=None, description="Where Prometheus scrapes the service.")
    autoscaling: Autoscaling | None = Field(
        default=None, description="Kubernetes HorizontalPodAutoscaler bounds; for the stateless apps."
    )
    storage: Storage | None = Field(default=None, description="Persistent data volume, for stateful services.")
    scratch_paths: list[AbsPath] = Field(
        default_factory=list, description="Writable scratch directories (tmpfs / emptyDir) on a read-only root."
    )
    image_user: ImageUser | None = Field(
        default=None,
        description="For upstream images: the account compose runs them as, so their entrypoints need no root "
        "(built images always run as build.user).",
    )
    seeded_dirs: list[AbsPath] = Field(
        default_factory=list,
        description="Image folders the process must write to: Kubernetes copies their content into an emptyDir "
        "with an init container, so the root filesystem stays read-only.",
    )
    writable_root_reason: NonEmptyText("a reason") | None = Field(
        default=None,
        description="Set only when the image cannot run on a read-only root filesystem; says why, "
        "and every report shows it.",
    )

    @model_validator(mode="after")
    def _replicas_within_autoscaling(self) -> Service:
        scaling = self.autoscaling
        if scaling is not None and not scaling.min_replicas <= self.replicas <= scaling.max_replicas:
            raise PydanticCustomError(
                "vr",
                "replicas ({n}) must lie within autoscaling min_replicas..max_replicas ({lo}..{hi})",
                {"n": self.replicas, "lo": scaling.min_replicas, "hi": scaling.max_replicas},
            )
        return self


class Secret(Model):
    description: NonEmptyText("a description") = Field(description="What the secret holds, for operators.")
    key: DnsLabel = Field(default="value", description="Key inside the Kubernetes Secret that holds the value.")
    dev_file: RelPath | None = Field(
        default=None,
        description="Local file with a throwaway value, relative to the compose file; used by the dev compose file only.",
    )


# -- posture, monitoring, deployment -------------------------------------------------------


class Kubernetes(Model):
    version: Literal["1.29", "1.30", "1.31", "1.32", "1.33"] = Field(
        default="1.31", description="Kubernetes minor version the manifests are validated against."
    )
    namespace: DnsLabel = Field(description="Namespace that holds every object of the stack.")
    ingress_namespace: DnsLabel = Field(default="ingress-nginx", description="Namespace of the ingress controller.")
    ingress_controller: DnsLabel = Field(
        default="ingress-nginx", description="app.kubernetes.io/name label of the ingress controller's pods."
    )
    monitoring_namespace: DnsLabel = Field(default="monitoring", description="Namespace where Prometheus runs.")
    ingress_class: DnsLabel = Field(default="nginx", description="IngressClass that serves environment.domain.")
    tls_secret: DnsLabel = Field(
        default="vitalyst-tls", description="kubernetes.io/tls Secret with the certificate for environment.domain."
    )


class Environment(Model):
    tier: Literal["dev", "staging", "prod"] = Field(description="Environment class; prod demands pinned images.")
    compose_mode: Literal["local", "swarm"] = Field(
        description="local: a laptop compose file with builds; swarm: a stack for docker stack deploy."
    )
    kubernetes: Kubernetes | None = Field(default=None, description="Set to render Kubernetes manifests.")
    domain: Text = Field(description="Public host name of the frontend (the Kubernetes Ingress host).")


class Security(Model):
    read_only_root_filesystem: bool = Field(default=True, description="Mount every container root read-only.")
    no_new_privileges: bool = Field(default=True, description="Forbid privilege escalation (setuid binaries).")
    drop_capabilities: list[Text] = Field(default_factory=lambda: ["ALL"], description="Linux capabilities dropped.")
    seccomp_profile: Literal["RuntimeDefault"] = Field(default="RuntimeDefault", description="Seccomp profile for pods.")
    pod_security_level: Literal["restricted", "baseline"] = Field(
        default="restricted", description="Pod Security Admission level enforced on the namespace."
    )


class Thresholds(Model):
    cpu_ratio: Ratio = Field(default=0.8, description="CPU usage ÷ CPU limit above which ContainerHighCPU fires.")
    memory_ratio: Ratio = Field(default=0.85, description="Working set ÷ memory limit above which ContainerHighMemory fires.")
    restart_window: Duration = Field(default="15m", description="Window in which any restart fires ContainerRestarting.")
    error_ratio: Ratio = Field(default=0.05, description="Backend 5xx ÷ all requests above which errors alert.")
    latency_p99_seconds: float = Field(default=1.0, gt=0, description="Backend p99 latency above which latency alerts.")


class Receiver(Model):
    name: DnsLabel = Field(description="Alertmanager receiver name.")
    kind: Literal["webhook", "slack"] = Field(description="Notification integration.")
    url_secret: DnsLabel = Field(description="Secret whose file holds the webhook URL; never a literal.")
    severities: list[Literal["critical", "warning", "info"]] = Field(min_length=1, description="Severities routed here.")


class HttpMetrics(Model):
    requests: Text = Field(default="http_requests_total", description="Counter of handled requests.")
    status_label: Text = Field(default="status", description="Label of that counter holding the HTTP status.")
    error_status: Text = Field(default="5..", description="Regex of the status values that count as errors.")
    duration: Text = Field(
        default="http_request_duration_seconds", description="Histogram of request durations (without _bucket)."
    )


class Exporter(Model):
    scrape: Literal["service", "kubelet-cadvisor", "kubelet", "static"] = Field(
        description="How Prometheus finds it: a stack service's pods/tasks, the kubelet (cAdvisor or its own "
        "metrics), or fixed targets."
    )
    platforms: list[Literal["kubernetes", "compose"]] = Field(
        min_length=1, description="Where the exporter runs: Kubernetes profiles, compose/swarm profiles, or both."
    )
    service: DnsLabel | None = Field(default=None, description="For scrape: service, the stack service scraped.")
    targets: list[Text] = Field(default_factory=list, description="For scrape: static, host:port targets.")
    metrics: list[Text] = Field(min_length=1, description="The metric catalogue: every metric name it exports that rules may use.")


class Monitoring(Model):
    scrape_interval: Duration = Field(default="30s", description="Prometheus scrape interval.")
    evaluation_interval: Duration = Field(default="30s", description="Prometheus rule evaluation interval.")
    alert_for: Duration = Field(default="5m", description="How long a condition holds before resource alerts fire.")
    thresholds: Thresholds = Field(default_factory=Thresholds, description="Alert thresholds.")
    receivers: list[Receiver] = Field(min_length=1, description="Where Alertmanager sends notifications.")
    exporters: dict[DnsLabel, Exporter] = Field(
        description="Scrape jobs by name, each with its metric catalogue; alerts may use only these metrics."
    )
    http: HttpMetrics = Field(default_factory=HttpMetrics, description="The backend's HTTP metrics.")
    runbook_base_url: HttpUrl = Field(
        default="https://runbooks.vitalyst.example/alerts",
        description="Base URL of the runbooks; each alert links to <base>/<AlertName>.",
    )


class BackupJob(Model):
    schedule: CronSchedule = Field(description="Cron schedule (five fields, UTC).")
    retention_days: IntAtLeast(1) = Field(description="Days a backup is kept before the job deletes it.")
    alert_after: Duration = Field(description="Time without a successful run after which BackupLate fires.")


class Backups(Model):
    volume_size: MemoryQuantity = Field(description="Size of the PersistentVolumeClaim that holds backups.")
    neo4j: BackupJob = Field(description="Nightly neo4j-admin database dump.")
    redis: BackupJob = Field(description="RDB copy taken over the replication protocol.")
    redis_secret: DnsLabel = Field(description="Secret with the password of the Redis ACL user that takes backups.")


class SaveRule(Model):
    seconds: IntAtLeast(1) = Field(description="Snapshot when this many seconds have passed ...")
    changes: IntAtLeast(1) = Field(description="... and at least this many keys changed.")


class RedisSettings(Model):
    maxmemory_ratio: Ratio = Field(
        default=0.7, description="maxmemory as a share of the container's memory limit; at most 0.75 with persistence."
    )
    maxmemory_policy: Literal[
        "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"
    ] = Field(default="allkeys-lru", description="What Redis evicts at maxmemory.")
    save: list[SaveRule] = Field(default_factory=list, description="RDB snapshot rules; empty disables RDB snapshots.")
    appendonly: bool = Field(default=False, description="Keep an append-only file.")
    appendfsync: Literal["always", "everysec", "no"] = Field(default="everysec", description="When the AOF is fsynced.")
    tcp_keepalive: IntAtLeast(0) = Field(default=300, description="Seconds between TCP keepalives to clients.")
    timeout: IntAtLeast(0) = Field(default=0, description="Close idle clients after this many seconds (0: never).")
    latency_monitor_threshold: IntAtLeast(0) = Field(default=100, description="Record events slower than this (ms).")
    users: dict[DnsLabel, NonEmptyText("ACL rules")] = Field(
        description="ACL users and their rules (without passwords); the default user is always off."
    )

    @property
    def persists(self) -> bool:
        return bool(self.save) or self.appendonly

    @model_validator(mode="after")
    def _fork_headroom(self) -> RedisSettings:
        if self.persists and self.maxmemory_ratio > 0.75:
            raise PydanticCustomError(
                "vr",
                "maxmemory_ratio {r} leaves no room for the fork of a save; at most 0.75 with persistence",
                {"r": self.maxmemory_ratio},
            )
        if "default" in self.users:
            raise PydanticCustomError("vr", "the default user is always off; name your users", {})
        return self


class UpdatePolicy(Model):
    parallelism: IntAtLeast(1) = Field(default=1, description="Tasks updated at once (swarm update_config).")
    delay: Duration = Field(default="10s", description="Pause between update batches.")
    monitor: Duration = Field(default="30s", description="How long a task is watched for failure after an update.")


class IdleRelease(Model):
    tag: ImageTag = Field(description="Image tag the idle colour runs for every app service.")
    digests: dict[DnsLabel, Digest] = Field(
        default_factory=dict, description="Per app service, the digest of that tag (required in prod)."
    )


class Deployment(Model):
    strategy: Literal["rolling", "blue-green"] = Field(default="rolling", description="How new versions replace old.")
    active_color: Literal["blue", "green"] = Field(default="blue", description="Colour that receives traffic in blue-green.")
    idle_release: IdleRelease | None = Field(
        default=None,
        description="Blue-green: the release the idle colour runs before it takes traffic; unset, both colours run "
        "the services' images.",
    )
    min_ready_seconds: IntAtLeast(0) = Field(default=30, description="Seconds a new pod must be ready before it counts.")
    revision_history_limit: IntAtLeast(1) = Field(default=10, description="Old ReplicaSets kept for rollout undo.")
    update: UpdatePolicy = Field(default_factory=UpdatePolicy, description="Swarm update and rollback pacing.")


class Suppression(Model):
    id: CheckId = Field(description="ID of the check to silence.")
    reason: NonEmptyText("a written reason") = Field(description="Why the finding does not apply; shown in every report.")


class Checks(Model):
    suppress: list[Suppression] = Field(default_factory=list, description="Checks silenced for this profile, with reasons.")


# -- the profile -------------------------------------------------------------------------


class Profile(Model):
    """A resolved environment profile (after ``extends`` has been merged)."""

    project: Project = Field(description="Identity of the stack.")
    environment: Environment = Field(description="Per-environment settings.")
    build: Build = Field(description="Image build settings.")
    services: dict[DnsLabel, Service] = Field(description="The four services of the stack, keyed by DNS-1123 name.")
    secrets: dict[DnsLabel, Secret] = Field(default_factory=dict, description="Secrets by name; values never live here.")
    security: Security = Field(default_factory=Security, description="Container security posture.")
    monitoring: Monitoring = Field(description="Scraping, alert thresholds and notification routes.")
    deployment: Deployment = Field(default_factory=Deployment, description="Rollout strategy.")
    backups: Backups | None = Field(default=None, description="Kubernetes backup CronJobs; required with kubernetes.")
    redis: RedisSettings = Field(description="redis.conf settings and ACL users.")
    checks: Checks = Field(default_factory=Checks, description="Check suppressions.")

    @field_validator("services")
    @classmethod
    def _stack_services(cls, services: dict[str, Service]) -> dict[str, Service]:
        missing = [name for name in STACK_SERVICES if name not in services]
        unknown = [name for name in services if name not in STACK_SERVICES]
        if unknown or missing:
            raise PydanticCustomError(
                "vr",
                "expected exactly the services {expected}; {problem}",
                {
                    "expected": ", ".join(STACK_SERVICES),
                    "problem": f"unknown: {', '.join(unknown)}" if unknown else f"missing: {', '.join(missing)}",
                },
            )
        return services

    @model_validator(mode="after")
    def _references(self) -> Profile:
        # Raised as plain ValueErrors carrying a path so the loader can place them.
        for name, service in self.services.items():
            for index, secret in enumerate(service.secrets):
                if secret not in self.secrets:
                    raise ReferenceProblem(("services", name, "secrets", index), f"unknown secret {secret!r}; declare it under secrets")
            for index, target in enumerate(service.depends_on):
                if target not in self.services or target == name:
                    raise ReferenceProblem(("services", name, "depends_on", index), f"{target!r} is not another service of the stack")
            if name in APP_SERVICES:
                if service.build is None:
                    raise ReferenceProblem(("services", name), "an app service needs a build section")
                if service.build.base not in self.build.base_images:
                    raise ReferenceProblem(
                        ("services", name, "build", "base"),
                        f"unknown base image {service.build.base!r}; expected one of: {', '.join(sorted(self.build.base_images))}",
                    )
            else:
                if service.build is not None:
                    raise ReferenceProblem(("services", name, "build"), f"{name} runs an upstream image and is not built")
                if service.storage is None:
                    raise ReferenceProblem(("services", name), f"{name} keeps data: it needs a storage section")
            if service.build is not None and service.image_user is not None:
                raise ReferenceProblem(("services", name, "image_user"), "built images run as build.user; remove image_user")
            if service.metrics and service.metrics.exporter_secret and service.metrics.exporter_secret not in self.secrets:
                raise ReferenceProblem(("services", name, "metrics", "exporter_secret"), f"unknown secret {service.metrics.exporter_secret!r}")
            if name in APP_SERVICES and self.environment.kubernetes is not None and service.autoscaling is None:
                raise ReferenceProblem(("services", name), "an app on Kubernetes needs an autoscaling section")
        if self.environment.kubernetes is not None and self.backups is None:
            raise ReferenceProblem(("backups",), "Kubernetes profiles need a backups section (schedules, retention, volume)")
        if self.backups is not None and self.backups.redis_secret not in self.secrets:
            raise ReferenceProblem(("backups", "redis_secret"), f"unknown secret {self.backups.redis_secret!r}")
        for job, exporter in self.monitoring.exporters.items():
            path = ("monitoring", "exporters", job)
            if exporter.scrape == "service" and exporter.service not in self.services:
                raise ReferenceProblem(path + ("service",), "a service exporter names one of the stack's services")
            if exporter.scrape == "static" and not exporter.targets:
                raise ReferenceProblem(path + ("targets",), "a static exporter needs targets")
        for index, receiver in enumerate(self.monitoring.receivers):
            if receiver.url_secret not in self.secrets:
                raise ReferenceProblem(("monitoring", "receivers", index, "url_secret"), f"unknown secret {receiver.url_secret!r}")
        return self


class ReferenceProblem(ValueError):
    """A cross-field error that knows the path it belongs to."""

    def __init__(self, path: tuple[str | int, ...], message: str):
        super().__init__(message)
        self.path = path
        self.message = message
