"""The typed shape of an environment profile.

Every model is frozen and forbids unknown keys, and every field carries a description:
the JSON schemas ``docs/profile.schema.json`` (a resolved profile) and
``schemas/profile.schema.json`` (a profile file as written) are generated from these classes.

Services are keyed by any DNS-1123 name and carry a ``kind``, their role. This module
holds what every kind shares (:class:`ServiceSpec`, and the :class:`AppService` and
:class:`UpstreamService` families); each kind's own model lives in its role module
under :mod:`vitalyst_render.roles`, and the profile model that accepts them all is
assembled from the role registry (:func:`vitalyst_render.roles.profile_model`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .names import Capability, ServiceName, VersionLabel
from .languages import LabelName, PromRegex
from .types import (
    Cidr,
    Count,
    Description,
    LicenseExpression,
    PositiveInt,
    Reason,
    SourceUrl,
    VendorName,
    WrittenReason,
    AbsPath,
    CheckId,
    CpuQuantity,
    CronSchedule,
    Digest,
    DnsLabel,
    Duration,
    EnvName,
    EnvValue,
    HostName,
    HttpUrl,
    ImageName,
    ImageTag,
    MetricName,
    Port,
    Ratio,
    RelPath,
    Text,
    Uid,
    UrlPath,
    INT32_MAX,
    PositiveNumber,
    PositiveSeconds,
    WholeSeconds,
    cpu_millis,
    duration_seconds,
    memory_bytes,
    shown,
)
from .text_credentials import credential_problems
from .urls import ScrapeTarget
from .limits import AlertWindow, LatenessDuration, MemoryLimit, PrometheusInterval, VolumeSize


#: Where every container finds its secrets, each as the file ``SECRETS_DIR/<name>``: compose's
#: target, and the directory a Kubernetes pod mounts its projected secrets volume at.
SECRETS_DIR = "/run/secrets"


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ReferenceProblem(ValueError):
    """A cross-field error that knows the path it belongs to."""

    def __init__(self, path: tuple[str | int, ...], message: str):
        super().__init__(message)
        self.path = path
        self.message = message


Item = TypeVar("Item")


def _listed_once(items: list[Item]) -> list[Item]:
    seen: set[object] = set()
    for index, item in enumerate(items):
        if item in seen:
            raise ReferenceProblem((index,), f"{shown(item)} is listed twice")
        seen.add(item)
    return items


#: A list whose items each count once (secrets, ports, paths, names): a repeat is a
#: mistake, and ``key+`` appends make one easy, so it is refused where it is written.
Distinct = Annotated[list[Item], AfterValidator(_listed_once), Field(json_schema_extra={"uniqueItems": True})]


# -- project and build -----------------------------------------------------------------


class Project(Model):
    name: DnsLabel = Field(description="Short name of the stack; prefixes stacks, namespaces and labels.")
    description: Description = Field(description="One-line description, used in OCI image labels.")
    version: VersionLabel = Field(
        description="Application release version, used as OCI label and as the app.kubernetes.io/version label value "
        "(at most 63 letters, digits, '-', '_' and '.', beginning and ending with a letter or digit)."
    )
    vendor: VendorName = Field(description="Organisation that ships the images (OCI vendor label).")
    source: SourceUrl = Field(
        description="http(s) URL of the source repository (OCI source label), without a user name or password."
    )
    licenses: LicenseExpression = Field(description="SPDX license expression (OCI licenses label).")


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
        description="Base images by name (python, node); app services name the one they build on."
    )


# -- what every service has ----------------------------------------------------------------


class ImageRef(Model):
    repository: ImageName = Field(description="Registry path of the image.")
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
    memory: MemoryLimit = Field(description='Memory in Kubernetes quantity form ("512Mi", "4Gi"); never 0, which Docker reads as no limit.')


class Resources(Model):
    requests: ResourceAmounts = Field(
        description="Guaranteed share: k8s requests and compose reservations; each at most its limit."
    )
    limits: ResourceAmounts = Field(description="Hard ceiling: k8s limits and compose limits.")

    @model_validator(mode="after")
    def _requests_within_limits(self) -> Resources:
        # The Kubernetes API server refuses a container whose request exceeds its limit.
        for field, amount in (("cpu", cpu_millis), ("memory", memory_bytes)):
            request, limit = getattr(self.requests, field), getattr(self.limits, field)
            if amount(request) > amount(limit):
                raise ReferenceProblem(
                    ("requests", field),
                    f"the request {request} exceeds the limit {limit} (limits.{field}); a request may be at most its limit",
                )
        return self


class Health(Model):
    kind: Literal["http", "tcp", "command"] = Field(description="How the service is probed.")
    port: Port | None = Field(default=None, description="Port probed by http and tcp checks; one of the service's ports.")
    path: UrlPath | None = Field(default=None, description="HTTP path probed by http checks, e.g. /health.")
    command: list[Text] | None = Field(default=None, description="Argument vector run by command checks.")
    interval: PositiveSeconds = Field(description="Time between probes, in whole seconds (at least 1s).")
    timeout: PositiveSeconds = Field(description="Time after which one probe counts as failed, in whole seconds (at least 1s).")
    retries: PositiveInt = Field(description="Consecutive failures before the container is unhealthy.")
    start_period: WholeSeconds = Field(
        description="Grace period after start during which failures do not count, in whole seconds (0s: none)."
    )

    @model_validator(mode="after")
    def _complete(self) -> Health:
        if self.kind in ("http", "tcp") and self.port is None:
            raise PydanticCustomError("vr", "a {kind} health check needs a port", {"kind": self.kind})
        if self.kind == "http" and self.path is None:
            raise PydanticCustomError("vr", "an http health check needs a path, e.g. /health", {})
        if self.kind == "command" and not self.command:
            raise PydanticCustomError("vr", "a command health check needs a non-empty command", {})
        # What the artefacts derive from these must fit too: the startup probe's failureThreshold
        # (Kubernetes int32) and the swarm update monitor, start_period + interval × retries.
        start, interval = duration_seconds(self.start_period), duration_seconds(self.interval)
        for what, amount in (
            ("the startup probe's failureThreshold (start_period ÷ 5s + retries)", math.ceil(start / 5) + self.retries),
            ("the grace period start_period + interval × retries, in seconds", start + interval * self.retries),
        ):
            if amount > INT32_MAX:
                raise ReferenceProblem(
                    ("retries",), f"{what} comes to {int(amount)}, beyond {INT32_MAX} (int32); lower retries, interval or start_period"
                )
        return self


class HttpMetrics(Model):
    requests: MetricName = Field(default="http_requests_total", description="Counter of handled requests.")
    status_label: LabelName = Field(
        default="status", description="Label of that counter holding the HTTP status (a label name, [a-zA-Z_][a-zA-Z0-9_]*)."
    )
    error_status: PromRegex = Field(
        default="5..",
        description="Regex (RE2, as Prometheus reads it, anchored) of the status values that count as errors; "
        "quoted into the rules as one PromQL string.",
    )
    duration: MetricName = Field(
        default="http_request_duration_seconds", description="Histogram of request durations (without _bucket)."
    )

    @property
    def names(self) -> tuple[str, ...]:
        """Every series name these metrics put in the catalogue."""
        return (self.requests, *(f"{self.duration}_{suffix}" for suffix in ("bucket", "count", "sum")))


class Metrics(Model):
    port: Port = Field(description="Port that serves Prometheus metrics; one of the service's ports.")
    path: UrlPath = Field(default="/metrics", description="HTTP path of the metrics endpoint.")
    catalogue: Distinct[MetricName] | None = Field(
        default=None,
        description="Every metric name the endpoint exports that rules and panels may use; unset, the kind's "
        "defaults (and the http metrics below).",
    )
    http: HttpMetrics | None = Field(
        default=None,
        description="The service's HTTP request metrics: set them to get request-rate, error-ratio and p99 "
        "recording rules, alerts and panels for this service.",
    )


class Autoscaling(Model):
    min_replicas: PositiveInt = Field(description="Fewest replicas the autoscaler keeps.")
    max_replicas: PositiveInt = Field(description="Most replicas the autoscaler may run.")
    cpu_utilization: PositiveInt = Field(
        default=70, description="Target average CPU use, in percent of the request, that the autoscaler steers to."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Autoscaling:
        if self.max_replicas < self.min_replicas:
            raise PydanticCustomError("vr", "max_replicas ({mx}) is below min_replicas ({mn})", {"mx": self.max_replicas, "mn": self.min_replicas})
        return self


class Storage(Model):
    size: VolumeSize = Field(description="Size of the persistent volume per replica.")
    mount: AbsPath = Field(description="Path where the data volume is mounted.")


class Expose(Model):
    path: UrlPath = Field(default="/", description="Path prefix of environment.domain that the Ingress routes here.")
    port: DnsLabel | None = Field(default=None, description="Name of the port served; the first port when unset.")


class ServiceSpec(Model):
    """What every service has, whatever its kind."""

    kind: str = Field(description="The service's role: python-app, node-app, neo4j, redis or image (or a plugin's kind).")
    ports: list[ServicePort] = Field(
        default_factory=list, description="Ports the service listens on; the first is the one callers use."
    )
    replicas: PositiveInt = Field(description="Number of running copies.")
    resources: Resources = Field(description="CPU and memory requests and limits.")
    health: Health = Field(description="The one health definition behind HEALTHCHECK, compose healthcheck and probes.")
    command: list[Text] | None = Field(
        default=None, description="Replaces the image's entrypoint: the Kubernetes command, the compose entrypoint."
    )
    args: list[Text] | None = Field(
        default=None, description="Replaces the image's command: the Kubernetes args, the compose command."
    )
    env: dict[EnvName, EnvValue] = Field(default_factory=dict, description="Plain environment, delivered verbatim.")
    secrets: Distinct[DnsLabel] = Field(default_factory=list, description="Names of top-level secrets mounted into the service.")
    depends_on: Distinct[DnsLabel] = Field(
        default_factory=list, description="Services this one calls, on their first port: the only allowed network edges."
    )
    egress_ports: Distinct[Port] = Field(
        default_factory=list,
        description="TCP ports this service may reach outside the cluster (e.g. 443 for Auth0); nothing else leaves.",
    )
    metrics: Metrics | None = Field(default=None, description="Where Prometheus scrapes the service.")
    autoscaling: Autoscaling | None = Field(default=None, description="Kubernetes HorizontalPodAutoscaler bounds.")
    storage: Storage | None = Field(default=None, description="Persistent data volume: the service becomes stateful.")
    scratch_paths: Distinct[AbsPath] = Field(
        default_factory=list, description="Writable scratch directories (tmpfs / emptyDir) on a read-only root."
    )
    expose: Expose | None = Field(
        default=None,
        description="Serve this service on environment.domain: the Kubernetes Ingress routes its path here and a "
        "swarm stack publishes its port.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ServiceSpec:
        scaling = self.autoscaling
        if scaling is not None and not scaling.min_replicas <= self.replicas <= scaling.max_replicas:
            raise ReferenceProblem(
                ("replicas",),
                f"replicas ({self.replicas}) must lie within autoscaling min_replicas..max_replicas "
                f"({scaling.min_replicas}..{scaling.max_replicas})",
            )
        seen_names: set[str] = set()
        seen_ports: set[tuple[int, str]] = set()
        for index, port in enumerate(self.ports):
            if port.name in seen_names:
                raise ReferenceProblem(("ports", index, "name"), f"port name {port.name!r} is used twice")
            if (port.port, port.protocol) in seen_ports:
                raise ReferenceProblem(("ports", index, "port"), f"port {port.port}/{port.protocol} is listed twice")
            seen_names.add(port.name)
            seen_ports.add((port.port, port.protocol))
        numbers = {port.port for port in self.ports}
        if self.health.port is not None and self.health.port not in numbers:
            raise ReferenceProblem(("health", "port"), f"health.port {self.health.port} is not one of the service's ports")
        if self.metrics is not None and self.metrics.port not in numbers:
            raise ReferenceProblem(("metrics", "port"), f"metrics.port {self.metrics.port} is not one of the service's ports")
        if self.expose is not None:
            if not self.ports:
                raise ReferenceProblem(("expose",), "an exposed service needs a port")
            if self.expose.port is not None and self.expose.port not in seen_names:
                raise ReferenceProblem(("expose", "port"), f"{self.expose.port!r} is not the name of one of the service's ports")
        return self

    @property
    def primary_port(self) -> ServicePort | None:
        return self.ports[0] if self.ports else None

    def references(self, name: str, profile: Profile) -> Iterator[ReferenceProblem]:
        """Problems with what this service names elsewhere in the profile (paths below it).
        Kinds extend this with their own references."""
        return iter(())


class AppBuild(Model):
    source: DnsLabel | None = Field(
        default=None,
        alias="from",
        description="Run the image another app service of the same kind builds (a worker running the API's "
        "image with another command); then nothing else is set here.",
    )
    base: DnsLabel | None = Field(default=None, description="Key into build.base_images for the builder and runtime stages.")
    context: RelPath | None = Field(
        default=None, description="Folder of the app's sources, relative to the compose file (out/<profile>/compose/)."
    )
    command: list[Text] | None = Field(default=None, description="Exec-form command (CMD) of the image's final stage.")

    @model_validator(mode="after")
    def _one_way(self) -> AppBuild:
        own = (self.base, self.context, self.command)
        if self.source is not None and any(part is not None for part in own):
            raise PydanticCustomError("vr", "a build either names `from` (another service's image) or sets base, context and command, not both", {})
        if self.source is None and any(part is None for part in own):
            raise PydanticCustomError("vr", "a build needs base, context and command (or `from` to share another service's image)", {})
        return self


class AppService(ServiceSpec):
    """A service whose image this stack builds (or shares with another app service)."""

    image: ImageRef | None = Field(
        default=None, description="Image the service builds and runs; left out with build.from, which shares one."
    )
    build: AppBuild = Field(description="How the image is built, or which service's image it shares.")

    def references(self, name: str, profile: Profile) -> Iterator[ReferenceProblem]:
        yield from super().references(name, profile)
        build = self.build
        if build.source is not None:
            source = profile.services.get(build.source)
            if source is None or build.source == name:
                yield ReferenceProblem(("build", "from"), f"{build.source!r} is not another service of the stack")
            elif not isinstance(source, AppService) or source.kind != self.kind or source.build.source is not None:
                yield ReferenceProblem(
                    ("build", "from"), f"{build.source!r} must be a {self.kind} service with a build of its own"
                )
            if self.image is not None:
                yield ReferenceProblem(("image",), f"the image comes from {build.source!r} (build.from); remove image")
        else:
            if self.image is None:
                yield ReferenceProblem((), "an app service that builds its image needs an image section")
            if build.base not in profile.build.base_images:
                yield ReferenceProblem(
                    ("build", "base"),
                    f"unknown base image {build.base!r}; expected one of: {', '.join(sorted(profile.build.base_images))}",
                )


class ImageUser(Model):
    uid: PositiveInt = Field(description="Numeric user id of the upstream image's own account (never 0).")
    gid: PositiveInt = Field(description="Numeric group id of that account.")


class UpstreamService(ServiceSpec):
    """A service that runs an image someone else publishes."""

    image: ImageRef = Field(description="Image the service runs.")
    image_user: ImageUser | None = Field(
        default=None,
        description="The image's own account, which compose runs it as so that its entrypoint needs no root.",
    )
    seeded_dirs: Distinct[AbsPath] = Field(
        default_factory=list,
        description="Image folders the process must write to: Kubernetes copies their content into an emptyDir "
        "with an init container, so the root filesystem stays read-only.",
    )
    writable_root_reason: Reason | None = Field(
        default=None,
        description="Set only when the image cannot run on a read-only root filesystem; says why, "
        "and every report shows it.",
    )


class BackupSchedule(Model):
    """When a Kubernetes backup CronJob runs, how long it keeps copies, and when it is late."""

    schedule: CronSchedule = Field(
        description="Cron schedule in UTC: minute (0-59), hour (0-23), day of month (1-31), month (1-12 or jan-dec) "
        "and day of week (0-6 or sun-sat; Kubernetes refuses 7), each a value, a range a-b, */n or a-b/n, or a list of them."
    )
    retention_days: PositiveInt = Field(description="Days a backup is kept before the job deletes it.")
    alert_after: LatenessDuration = Field(description="Time without a successful run after which BackupLate fires.")
    volume_size: VolumeSize = Field(description="Size of the PersistentVolumeClaim that holds the copies.")


class Secret(Model):
    description: Description = Field(description="What the secret holds, for operators.")
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
    # Pods reach the API server through the `kubernetes` Service, but most CNIs (Calico,
    # Cilium) match NetworkPolicy after the Service's DNAT, against the control plane's own
    # addresses: private ones, on 6443 (kubeadm) or 443 (managed clusters). The private
    # ranges on both ports work without knowing the cluster; narrow them to its endpoints.
    api_server_cidrs: Distinct[Cidr] = Field(
        default_factory=lambda: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
        min_length=1,
        description="Where pods that call the Kubernetes API (the Neo4j backup window) may connect: the API server's "
        "endpoints as NetworkPolicy sees them. The default, the private ranges, works on any cluster whose control "
        "plane has private addresses; narrow it to the addresses of `kubectl get endpoints kubernetes` (/32 each).",
    )
    api_server_ports: Distinct[Port] = Field(
        default_factory=lambda: [443, 6443],
        min_length=1,
        description="TCP ports of the API server endpoints: 6443 on kubeadm clusters, 443 on most managed ones.",
    )


class Environment(Model):
    tier: Literal["dev", "staging", "prod"] = Field(description="Environment class; prod demands pinned images.")
    compose_mode: Literal["local", "swarm"] = Field(
        description="local: a laptop compose file with builds; swarm: a stack for docker stack deploy."
    )
    kubernetes: Kubernetes | None = Field(default=None, description="Set to render Kubernetes manifests.")
    domain: HostName = Field(
        description="Public host name of the exposed services (the Kubernetes Ingress host): lowercase DNS labels "
        "joined by dots, such as kg.example or localhost, without scheme, path or port."
    )


class Security(Model):
    read_only_root_filesystem: bool = Field(default=True, description="Mount every container root read-only.")
    no_new_privileges: bool = Field(default=True, description="Forbid privilege escalation (setuid binaries).")
    drop_capabilities: Distinct[Capability] = Field(
        default_factory=lambda: ["ALL"], description="Linux capabilities dropped: ALL, or kernel capability names without CAP_ (NET_RAW)."
    )
    seccomp_profile: Literal["RuntimeDefault"] = Field(default="RuntimeDefault", description="Seccomp profile for pods.")
    pod_security_level: Literal["restricted", "baseline"] = Field(
        default="restricted", description="Pod Security Admission level enforced on the namespace."
    )


class Thresholds(Model):
    cpu_ratio: Ratio = Field(default=0.8, description="CPU usage ÷ CPU limit above which ContainerHighCPU fires.")
    memory_ratio: Ratio = Field(default=0.85, description="Working set ÷ memory limit above which ContainerHighMemory fires.")
    restart_window: AlertWindow = Field(default="15m", description="Window in which any restart fires ContainerRestarting.")
    error_ratio: Ratio = Field(default=0.05, description="5xx ÷ all requests above which HttpHighErrorRate fires.")
    latency_p99_seconds: PositiveNumber = Field(
        default=1.0, description="p99 request latency above which HttpHighLatency fires (finite, above 0)."
    )


class Receiver(Model):
    name: DnsLabel = Field(description="Alertmanager receiver name.")
    kind: Literal["webhook", "slack"] = Field(description="Notification integration.")
    url_secret: DnsLabel = Field(description="Secret whose file holds the webhook URL; never a literal.")
    severities: Distinct[Literal["critical", "warning", "info"]] = Field(min_length=1, description="Severities routed here.")


class Exporter(Model):
    scrape: Literal["kubelet-cadvisor", "kubelet", "static"] = Field(
        description="How Prometheus finds it: the kubelet (cAdvisor or its own metrics), or fixed targets. "
        "Services are scraped through their own metrics section."
    )
    platforms: Distinct[Literal["kubernetes", "swarm", "compose"]] = Field(
        min_length=1,
        description="Where the exporter runs: a Kubernetes cluster, a swarm stack, a laptop's Compose v2 project "
        "(compose_mode local), or several; each platform's prometheus.yml scrapes the exporters that run there.",
    )
    targets: Distinct[ScrapeTarget] = Field(
        default_factory=list, description="For scrape: static, host:port targets (no scheme, path, user name or password)."
    )
    metrics: Distinct[MetricName] = Field(min_length=1, description="The metric catalogue: every metric name it exports that rules may use.")


class Monitoring(Model):
    # Prometheus reads an interval of 0 as its default; a `for` of 0 fires at once, as written.
    scrape_interval: PrometheusInterval = Field(default="30s", description="Prometheus scrape interval; above 0.")
    evaluation_interval: PrometheusInterval = Field(default="30s", description="Prometheus rule evaluation interval; above 0.")
    alert_for: Duration = Field(default="5m", description="How long a condition holds before resource alerts fire (0s: at once).")
    thresholds: Thresholds = Field(default_factory=Thresholds, description="Alert thresholds.")
    receivers: list[Receiver] = Field(min_length=1, description="Where Alertmanager sends notifications.")
    exporters: dict[DnsLabel, Exporter] = Field(
        default_factory=dict,
        description="Infrastructure scrape jobs (cAdvisor, kube-state-metrics, the kubelet) by name, each with its "
        "metric catalogue; services are scraped through their own metrics section.",
    )
    runbook_base_url: HttpUrl = Field(
        default="https://git.vitalyst.example/vitalyst/deploy/blob/main/out",
        description="Where the committed out/ folder is browsable (your repository's web view of it); each alert "
        "links to its section of the rendered runbook, <base>/<profile>/docs/RUNBOOK.md#alert-<name>.",
    )


class UpdatePolicy(Model):
    parallelism: PositiveInt = Field(default=1, description="Tasks updated at once (swarm update_config).")
    delay: Duration = Field(default="10s", description="Pause between update batches (0s: none).")
    monitor: Duration = Field(default="30s", description="How long a task is watched for failure after an update.")


class IdleRelease(Model):
    tag: ImageTag = Field(description="Image tag the idle colour runs for every built image.")
    digests: dict[DnsLabel, Digest] = Field(
        default_factory=dict,
        description="Per service that builds its image, the digest of that tag (required in prod); services "
        "that share a build run the same digest.",
    )


class Deployment(Model):
    strategy: Literal["rolling", "blue-green"] = Field(
        default="rolling", description="How new versions of the built images replace old ones on Kubernetes."
    )
    active_color: Literal["blue", "green"] = Field(default="blue", description="Colour that receives traffic in blue-green.")
    idle_release: IdleRelease | None = Field(
        default=None,
        description="Blue-green: the release the idle colour runs before it takes traffic; unset, both colours run "
        "the services' images.",
    )
    min_ready_seconds: Count = Field(default=30, description="Seconds a new pod must be ready before it counts (0: at once).")
    revision_history_limit: PositiveInt = Field(
        default=10, description="Old ReplicaSets kept for rollout undo, and releases kept in the target's deploy history."
    )
    audit_log: RelPath = Field(
        default="deploy-audit.jsonl",
        description="File that render deploy appends one JSON line per action to (who, what, when, target, result); "
        "relative to the working directory.",
    )
    update: UpdatePolicy = Field(default_factory=UpdatePolicy, description="Swarm update and rollback pacing.")


class Suppression(Model):
    id: CheckId = Field(description="ID of the check to silence.")
    reason: WrittenReason = Field(description="Why the finding does not apply; shown in every report.")


class Checks(Model):
    suppress: list[Suppression] = Field(default_factory=list, description="Checks silenced for this profile, with reasons.")


# -- the profile -------------------------------------------------------------------------


class Profile(Model):
    """A resolved environment profile (after ``extends`` has been merged).

    ``services`` accepts every registered kind: the model that validates profiles is a
    subclass built by :func:`vitalyst_render.roles.profile_model`.
    """

    project: Project = Field(description="Identity of the stack.")
    environment: Environment = Field(description="Per-environment settings.")
    build: Build = Field(description="Image build settings.")
    services: dict[ServiceName, ServiceSpec] = Field(
        min_length=1, description="The stack's services by name (a DNS-1035 label: a letter first), each with a kind (its role)."
    )
    secrets: dict[DnsLabel, Secret] = Field(default_factory=dict, description="Secrets by name; values never live here.")
    security: Security = Field(default_factory=Security, description="Container security posture.")
    monitoring: Monitoring = Field(description="Scraping, alert thresholds and notification routes.")
    deployment: Deployment = Field(default_factory=Deployment, description="Rollout strategy.")
    checks: Checks = Field(default_factory=Checks, description="Check suppressions.")

    @property
    def on_kubernetes(self) -> bool:
        return self.environment.kubernetes is not None

    def secret_reference(self, path: tuple[str | int, ...], name: str) -> Iterator[ReferenceProblem]:
        if name not in self.secrets:
            yield ReferenceProblem(path, f"unknown secret {name!r}; declare it under secrets")

    def mounted_secrets(self, name: str, service: ServiceSpec) -> tuple[str, ...]:
        """The secrets mounted into the service's own container: its ``secrets`` and those its role adds."""
        from ..roles import registry  # the roles import these models

        role = registry().get(service.kind)
        return tuple(dict.fromkeys([*service.secrets, *(role.secrets(name, service) if role is not None else ())]))

    def _secret_files(self, name: str, service: ServiceSpec) -> Iterator[ReferenceProblem]:
        """Every ``*_FILE`` variable that points into the secrets folder names a secret the service mounts."""
        mounted: tuple[str, ...] | None = None
        for key, value in service.env.items():
            if not key.endswith("_FILE") or not value.startswith(SECRETS_DIR + "/"):
                continue
            secret, _, rest = value[len(SECRETS_DIR) + 1:].partition("/")
            path = ("services", name, "env", key)
            if rest or not secret:
                expected = f"; expected {SECRETS_DIR}/{secret}" if secret else ""
                yield ReferenceProblem(path, f"each secret is mounted as the file {SECRETS_DIR}/<name>{expected}")
                continue
            if mounted is None:
                mounted = self.mounted_secrets(name, service)
            if secret in mounted:
                continue
            if secret not in self.secrets:
                yield ReferenceProblem(
                    path, f"{value} names no secret; declare {secret!r} under secrets and add it to services.{name}.secrets"
                )
            else:
                yield ReferenceProblem(path, f"{value} is not mounted into this service; add {secret!r} to services.{name}.secrets")

    @model_validator(mode="after")
    def _references(self) -> Profile:
        # Raised as ValueErrors carrying a path so the loader can place them.
        for problem in self._problems():
            raise problem
        return self

    def _problems(self) -> Iterator[ReferenceProblem]:
        exposed: dict[str, str] = {}
        published: dict[int, str] = {}
        local = self.environment.compose_mode == "local"
        for name, service in self.services.items():
            here: tuple[str | int, ...] = ("services", name)
            for index, secret in enumerate(service.secrets):
                yield from self.secret_reference(here + ("secrets", index), secret)
            yield from self._secret_files(name, service)
            for index, target in enumerate(service.depends_on):
                callee = self.services.get(target)
                if callee is None or target == name:
                    yield ReferenceProblem(here + ("depends_on", index), f"{target!r} is not another service of the stack")
                elif callee.primary_port is None:
                    yield ReferenceProblem(here + ("depends_on", index), f"{target!r} listens on no port, so nothing can call it")
            for problem in service.references(name, self):
                yield ReferenceProblem(here + problem.path, problem.message)
            if service.expose is not None:
                if service.expose.path in exposed:
                    yield ReferenceProblem(
                        here + ("expose", "path"), f"path {service.expose.path} is already served by {exposed[service.expose.path]!r}"
                    )
                exposed[service.expose.path] = name
            if local and service.storage is None:
                for index, port in enumerate(service.ports):
                    if port.port in published:
                        yield ReferenceProblem(
                            here + ("ports", index, "port"),
                            f"the dev compose file publishes port {port.port} on 127.0.0.1 for {published[port.port]!r} "
                            "already; give this service another port",
                        )
                    published[port.port] = name
        release = self.deployment.idle_release
        if release is not None:
            for key in release.digests:
                owner = self.services.get(key)
                if not isinstance(owner, AppService) or owner.build.source is not None:
                    yield ReferenceProblem(
                        ("deployment", "idle_release", "digests", key), f"{key!r} is not a service that builds its own image"
                    )
        for job, exporter in self.monitoring.exporters.items():
            if exporter.scrape == "static" and not exporter.targets:
                yield ReferenceProblem(("monitoring", "exporters", job, "targets"), "a static exporter needs targets")
        for index, receiver in enumerate(self.monitoring.receivers):
            yield from self.secret_reference(("monitoring", "receivers", index, "url_secret"), receiver.url_secret)
        for path, message in credential_problems(self):
            yield ReferenceProblem(path, message)
