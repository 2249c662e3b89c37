"""The stack plan: every deployment decision, made once, from a validated profile.

Templates render the plan and nothing else decides: which networks a service joins,
which edges NetworkPolicies open, which ports compose publishes, what a health probe
runs, which config files a service mounts and under what name, what its sidecars
are, how Prometheus scrapes it, which backup jobs exist, and which alerts and panels
watch it. Checks compare the parsed artefacts with the same plan, so a rule is worked
out in one place and an artefact that disagrees with it is a finding.

What a service's *kind* adds (a Dockerfile, a probe program, a redis.conf, an
exporter sidecar, a backup job, alerts) comes from its role in
:mod:`vitalyst_render.roles`; nothing here or downstream looks at a service's name.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from .monitoring import Alert, MonitoringPlan, Platform, build_monitoring, platforms_of
from .probes import probe_command
from .profile.models import (
    AppService,
    Autoscaling,
    BackupSchedule,
    Expose,
    HttpMetrics,
    ImageRef,
    ImageUser,
    Profile,
    Resources,
    RuntimeUser,
    SECRETS_DIR,
    ServicePort,
    ServiceSpec,
    Storage,
)
from .profile.types import duration_seconds

if TYPE_CHECKING:
    from .profile.loader import LoadedProfile
    from .roles.base import Role

PullPolicy = Literal["Always", "IfNotPresent"]
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class Probe:
    """One health definition, as every artefact runs it."""

    kind: Literal["http", "tcp", "command"]
    port: int | None
    path: str | None
    argv: tuple[str, ...]  # the exec-form command of HEALTHCHECK and compose healthcheck
    interval: str
    timeout: str
    start_period: str
    retries: int

    @property
    def interval_seconds(self) -> int:
        return int(duration_seconds(self.interval))

    @property
    def argv_json(self) -> str:
        """The exec vector as one JSON string: the pod annotation ``render deploy`` runs."""
        return json.dumps(list(self.argv), separators=(",", ":"))

    @property
    def timeout_seconds(self) -> int:
        # Kubernetes counts whole seconds and refuses 0.
        return max(1, int(duration_seconds(self.timeout)))

    @property
    def start_period_seconds(self) -> int:
        return int(duration_seconds(self.start_period))

    @property
    def startup_failures(self) -> int:
        """Failures a 5-second startup probe allows: the start period, then the retries."""
        return math.ceil(self.start_period_seconds / 5) + self.retries

    @property
    def grace_seconds(self) -> int:
        """How long a new task may take to turn healthy: start period plus every retry."""
        return self.start_period_seconds + self.interval_seconds * self.retries


@dataclass(frozen=True)
class SecretMount:
    secret: str
    path: str  # /run/secrets/<secret>
    key: str  # the key inside the Kubernetes Secret

    @property
    def projection(self) -> dict[str, Any]:
        """The source of a projected volume at SECRETS_DIR that puts the key at ``path``."""
        return {"secret": {"name": self.secret, "items": [{"key": self.key, "path": self.path.removeprefix(SECRETS_DIR + "/")}]}}


@dataclass(frozen=True)
class ConfigMount:
    """Where a rendered config file appears inside the container."""

    name: str  # the ConfigMap's and the compose config's name
    directory: str
    file_name: str

    @property
    def path(self) -> str:
        return f"{self.directory}/{self.file_name}"


@dataclass(frozen=True)
class RoleFile:
    """A file a role renders for one service (redis.conf, an ACL template)."""

    path: str  # relative to out/<profile>/
    template: str
    syntax: str
    format: str  # what the file is, for the checks that read it ("redis.conf", "redis.acl")
    context: Mapping[str, Any]  # the names its template sees, besides the profile's
    mount: ConfigMount | None = None  # mounted into the service, or only handed to operators


@dataclass(frozen=True)
class Sidecar:
    """A helper container: in the service's pod on Kubernetes, a service of its own in compose."""

    name: str  # container name in the pod
    compose_name: str  # service name in the compose file
    image: str
    command: tuple[str, ...]
    port: ServicePort
    env_kubernetes: Mapping[str, str]  # the pod shares the service's network namespace
    env_compose: Mapping[str, str]  # a compose service reaches the service by name
    secrets: tuple[SecretMount, ...]
    probe: Probe
    resources: Resources
    scratch_paths: tuple[str, ...] = ()  # writable tmpfs on a read-only root


@dataclass(frozen=True)
class BuildPlan:
    """A Dockerfile this stack renders and builds."""

    template: str
    ignore_template: str
    base_image: str
    context: str
    command: tuple[str, ...]


@dataclass(frozen=True)
class ScrapeTarget:
    """How Prometheus scrapes one service, and what it finds there."""

    job: str
    service: str
    port: int
    path: str
    host: str  # the compose service that serves the metrics (its own, or its exporter sidecar)
    catalogue: tuple[str, ...]
    http: HttpMetrics | None = None


@dataclass(frozen=True)
class MemorySource:
    """A memory setting inside a container: an env value or a config directive."""

    where: Literal["env", "config"]
    key: str  # the env name, or the config directive
    unit: Literal["jvm", "redis-size", "node-mib"]
    file: str | None = None  # the RoleFile path, for a config directive


@dataclass(frozen=True)
class MemoryBudget:
    """What a service's memory settings may add up to, as a share of its memory limit."""

    sources: tuple[MemorySource, ...]
    share: float
    why: str


@dataclass(frozen=True)
class JobVolume:
    name: str
    claim: str | None = None  # a PersistentVolumeClaim
    empty_dir: str | None = None  # an emptyDir's size limit
    secrets: tuple[SecretMount, ...] = ()  # a projected volume of these, mounted at SECRETS_DIR


@dataclass(frozen=True)
class JobMount:
    volume: str
    path: str
    sub_path: str | None = None
    read_only: bool = False


@dataclass(frozen=True)
class RoleRule:
    """One rule of a namespaced RBAC Role."""

    api_group: str  # "" is the core group
    resource: str
    verbs: tuple[str, ...]
    names: tuple[str, ...] = ()  # resourceNames; empty for verbs that cannot name one (create, list)


@dataclass(frozen=True)
class MaintenanceWindow:
    """A backup that needs its service stopped: a scheduled pod that scales the service's
    StatefulSet down, runs the dump as a Job made from a suspended CronJob, and scales it
    back. Its pod is the stack's only API client: a ServiceAccount with a token, a Role
    of exactly ``rules``, and egress to the API server alone."""

    statefulset: str
    dump: str  # the suspended CronJob that holds the dump's Job template
    account: str  # the window pod's ServiceAccount, Role and RoleBinding
    image: str  # has bash and kubectl
    script: str
    resources: Resources
    rules: tuple[RoleRule, ...]
    seconds: int  # how long the database may stay down for the dump: the script's and the dump Job's deadline
    stop_wait_seconds: int  # how long the trap waits for a stopped dump's pod to go before it scales back
    api_cidrs: tuple[str, ...]
    api_ports: tuple[int, ...]
    mounts: tuple[JobMount, ...] = (JobMount("scratch", "/tmp"),)
    volumes: tuple[JobVolume, ...] = (JobVolume("scratch", empty_dir="16Mi"),)

    @property
    def grace_seconds(self) -> int:
        """The window pod's termination grace: time for its trap to stop the dump and scale back after a kill."""
        return self.stop_wait_seconds + 60

    @property
    def active_deadline_seconds(self) -> int:
        """The window Job's own deadline: the dump's, then the trap's time to clean up."""
        return self.seconds + self.grace_seconds


@dataclass(frozen=True)
class BackupJob:
    """A Kubernetes CronJob that copies one service's data to a claim of its own.

    With a ``window`` the CronJob of that name is the window, and this job's container
    is the template of the dump it runs (the suspended ``window.dump`` CronJob)."""

    service: str
    timing: BackupSchedule  # schedule, retention, lateness alert and volume size, from the profile
    comment: str
    starting_deadline_seconds: int
    backoff_limit: int
    active_deadline_seconds: int
    container: str
    image: str
    script: str
    resources: Resources
    mounts: tuple[JobMount, ...]
    volumes: tuple[JobVolume, ...]
    calls_service: bool  # reaches the service over the network (an edge)
    window: MaintenanceWindow | None = None
    ttl_seconds_after_finished: int | None = None

    @property
    def name(self) -> str:
        """The CronJob's name and its pods' app label."""
        return f"{self.service}-backup"

    @property
    def claim(self) -> str:
        return backup_claim(self.service)

    @property
    def dump_name(self) -> str:
        """The CronJob that runs the copy: the job itself, or a window's suspended dump."""
        return self.window.dump if self.window is not None else self.name

    @property
    def schedule(self) -> str:
        return str(self.timing.schedule)

    @property
    def volume_size(self) -> str:
        return str(self.timing.volume_size)

    @property
    def retention_days(self) -> int:
        return int(self.timing.retention_days)

    @property
    def alert_after_seconds(self) -> int:
        return int(duration_seconds(self.timing.alert_after))


def backup_claim(service: str) -> str:
    """The PersistentVolumeClaim a service's backup job writes to."""
    return f"backups-{service}"


@dataclass(frozen=True)
class Edge:
    """One allowed network path: ``caller`` may open ``port`` on ``callee``."""

    caller: str
    callee: str
    port: int
    protocol: str


@dataclass(frozen=True)
class SecretUse:
    """One container that mounts a secret, as each platform names it."""

    secret: str
    service: str  # the service whose pod holds the container
    compose_name: str  # the compose service: the service itself or its sidecar
    container: str  # the container's name in the pod
    uid: int  # who owns the mounted file in a swarm
    gid: int
    read_at_start: bool = True  # False: only its health check reads it, afresh at every probe


@dataclass(frozen=True)
class ComposeNetwork:
    name: str
    internal: bool
    members: tuple[str, ...]  # compose services, sidecars included
    purpose: str


@dataclass(frozen=True)
class ServicePlan:
    """One service, decided: what every artefact renders for it."""

    name: str
    kind: str
    spec: ServiceSpec
    image: str
    build: BuildPlan | None  # a Dockerfile of its own
    build_source: str | None  # the service whose build it runs (itself, when it builds)
    ports: tuple[ServicePort, ...]
    command: tuple[str, ...] | None
    args: tuple[str, ...] | None
    env: Mapping[str, str]
    secrets: tuple[SecretMount, ...]
    probe: Probe
    files: tuple[RoleFile, ...]
    sidecars: tuple[Sidecar, ...]
    scrape: ScrapeTarget | None
    memory: MemoryBudget | None
    run_as: RuntimeUser | ImageUser | None  # the compose user; Kubernetes always runs build.user
    published: tuple[ServicePort, ...]  # what compose publishes
    colours: tuple[str | None, ...]  # Kubernetes workloads: (None,) or ("blue", "green")
    images_by_colour: Mapping[str | None, str]
    expose_port: ServicePort | None
    update_monitor: str  # swarm update/rollback monitor window
    seeded_dirs: tuple[str, ...] = ()
    writable_root_reason: str | None = None

    @property
    def primary_port(self) -> ServicePort | None:
        return self.ports[0] if self.ports else None

    @property
    def replicas(self) -> int:
        return self.spec.replicas

    @property
    def resources(self) -> Resources:
        return self.spec.resources

    @property
    def autoscaling(self) -> Autoscaling | None:
        return self.spec.autoscaling

    @property
    def storage(self) -> Storage | None:
        return self.spec.storage

    @property
    def stateful(self) -> bool:
        return self.spec.storage is not None

    @property
    def scratch_paths(self) -> tuple[str, ...]:
        return tuple(self.spec.scratch_paths)

    @property
    def egress_ports(self) -> tuple[int, ...]:
        return tuple(self.spec.egress_ports)

    @property
    def expose(self) -> Expose | None:
        return self.spec.expose

    @property
    def depends_on(self) -> tuple[str, ...]:
        return tuple(self.spec.depends_on)

    @property
    def update_order(self) -> str:
        # Two tasks on one data volume corrupt it: stateful services stop first.
        return "stop-first" if self.stateful else "start-first"

    @property
    def mounted_files(self) -> tuple[RoleFile, ...]:
        return tuple(f for f in self.files if f.mount is not None)

    @property
    def built(self) -> bool:
        """Runs an image this stack builds (its own build or another service's)."""
        return self.build_source is not None


@dataclass(frozen=True)
class StackPlan:
    """The whole stack, decided once per render."""

    name: str  # the profile's name
    profile: Profile
    services: Mapping[str, ServicePlan]
    edges: tuple[Edge, ...]
    networks: tuple[ComposeNetwork, ...]
    backups: tuple[BackupJob, ...]
    scrape_targets: tuple[ScrapeTarget, ...]
    monitorings: tuple[MonitoringPlan, ...]  # one per platform, the primary first
    unpinned: str | None = None  # why images are not pinned yet, as the image lock says

    @property
    def stack_name(self) -> str:
        """The swarm stack (and deploy history) name: ``<project>-<profile>``."""
        return stack_name(self.profile.project.name, self.name)

    # Templates and checks ask these once per service or secret: each is worked out
    # once and indexed, so a stack of N services renders in time linear in N.

    @cached_property
    def secret_uses(self) -> tuple[SecretUse, ...]:
        """Every container that mounts a secret: services and their sidecars."""
        uses = []
        user = self.profile.build.user  # sidecars run as the stack's own user
        for service in self.services.values():
            owner = service.run_as or user
            uses += [SecretUse(m.secret, service.name, service.name, service.name, owner.uid, owner.gid,
                               not _probe_only(service, m.path)) for m in service.secrets]
            uses += [SecretUse(m.secret, service.name, sidecar.compose_name, sidecar.name, user.uid, user.gid)
                     for sidecar in service.sidecars for m in sidecar.secrets]
        return tuple(uses)

    def secret_uses_of(self, secret: str) -> tuple[SecretUse, ...]:
        """The containers that mount ``secret``, in ``secret_uses`` order."""
        return self._secret_uses_by_secret.get(secret, ())

    @cached_property
    def _secret_uses_by_secret(self) -> dict[str, tuple[SecretUse, ...]]:
        return grouped((use.secret, use) for use in self.secret_uses)

    def backups_reading(self, secret: str) -> tuple[BackupJob, ...]:
        """The backup jobs that mount ``secret`` (each run reads it afresh)."""
        return self._backups_by_secret.get(secret, ())

    @cached_property
    def _backups_by_secret(self) -> dict[str, tuple[BackupJob, ...]]:
        return grouped((secret, job) for job in self.backups
                        for secret in dict.fromkeys(m.secret for v in job.volumes for m in v.secrets))

    def services_with_env(self, name: str, value: str) -> tuple[ServicePlan, ...]:
        """The services whose environment sets ``name`` to ``value``, in profile order."""
        return self._services_by_env.get((name, value), ())

    @cached_property
    def _services_by_env(self) -> dict[tuple[str, str], tuple[ServicePlan, ...]]:
        return grouped(((key, value), service) for service in self.services.values() for key, value in service.env.items())

    @property
    def monitoring(self) -> MonitoringPlan:
        """The primary platform's monitoring (``prometheus/``)."""
        return self.monitorings[0]

    def monitoring_of(self, platform: Platform) -> MonitoringPlan | None:
        return next((m for m in self.monitorings if m.platform == platform), None)

    @property
    def scrape_networks(self) -> tuple[str, ...]:
        """The compose networks Prometheus joins to reach what it scrapes: each scraped
        service's ``-edge`` network."""
        hosts = {target.host for target in self.scrape_targets}
        return tuple(n.name for n in self.networks if n.name.endswith("-edge") and hosts & set(n.members))

    @property
    def alerts_by_name(self) -> tuple[tuple[str, tuple[tuple[Platform, Alert], ...]], ...]:
        """Every alert name of every platform, in rule order, with each platform's
        version: one runbook section per name."""
        found: dict[str, list[tuple[Platform, Alert]]] = {}
        for monitoring in self.monitorings:
            for alert in monitoring.alerts:
                found.setdefault(alert.name, []).append((monitoring.platform, alert))
        return tuple((name, tuple(versions)) for name, versions in found.items())

    @property
    def local(self) -> bool:
        return self.profile.environment.compose_mode == "local"

    @property
    def builds(self) -> tuple[ServicePlan, ...]:
        """Services with a Dockerfile of their own."""
        return tuple(s for s in self.services.values() if s.build is not None)

    @property
    def exposed(self) -> tuple[ServicePlan, ...]:
        return tuple(s for s in self.services.values() if s.expose is not None)

    @property
    def files(self) -> tuple[RoleFile, ...]:
        return tuple(f for s in self.services.values() for f in s.files)

    def files_of_format(self, file_format: str) -> tuple[tuple[ServicePlan, RoleFile], ...]:
        return tuple((s, f) for s in self.services.values() for f in s.files if f.format == file_format)

    def edges_to(self, callee: str) -> tuple[Edge, ...]:
        return self._edges_by_callee.get(callee, ())

    def edges_from(self, caller: str) -> tuple[Edge, ...]:
        return self._edges_by_caller.get(caller, ())

    @cached_property
    def _edges_by_callee(self) -> dict[str, tuple[Edge, ...]]:
        return grouped((edge.callee, edge) for edge in self.edges)

    @cached_property
    def _edges_by_caller(self) -> dict[str, tuple[Edge, ...]]:
        return grouped((edge.caller, edge) for edge in self.edges)

    def networks_of(self, compose_name: str) -> tuple[str, ...]:
        """The compose networks a service (or sidecar) joins."""
        return self._networks_by_member.get(compose_name, ())

    @cached_property
    def _networks_by_member(self) -> dict[str, tuple[str, ...]]:
        return grouped((member, network.name) for network in self.networks for member in dict.fromkeys(network.members))

    def monitor_for(self, probe: Probe) -> str:
        return monitor_window(self.profile, probe)

    def pull_policy(self, image: str) -> PullPolicy:
        """The Kubernetes ``imagePullPolicy`` of a container that runs ``image``."""
        return pull_policy(image)

    @property
    def compose_edges(self) -> tuple[Edge, ...]:
        """The paths between services of the compose file, sidecars included."""
        return _compose_edges(self.services, self.edges)



def grouped(pairs: Iterable[tuple[K, V]]) -> dict[K, tuple[V, ...]]:
    """Each key with its values, in the order they came."""
    groups: dict[K, list[V]] = {}
    for key, value in pairs:
        groups.setdefault(key, []).append(value)
    return {key: tuple(values) for key, values in groups.items()}


def _probe_only(service: ServicePlan, path: str) -> bool:
    """Whether only the service's health check reads the file at ``path``: the probe runs
    anew every interval, while the process (env, command, args, config) reads at start."""
    process = [*service.env.values(), *(service.command or ()), *(service.args or ()),
               *(str(f.context) for f in service.files)]
    return any(path in word for word in service.probe.argv) and not any(path in word for word in process)


def stack_name(project: str, profile: str) -> str:
    return f"{project}-{profile}"


def pull_policy(image: str) -> PullPolicy:
    """How a kubelet fetches ``image``: a digest names immutable bytes, so a node that has
    them may use its copy; a tag can be pushed again, so a node must ask the registry
    every time it starts the container, or it keeps running the old bytes."""
    return "IfNotPresent" if "@" in image else "Always"


# -- building it ---------------------------------------------------------------------------


def build_plan(loaded: LoadedProfile, roles: Mapping[str, Role]) -> StackPlan:
    """Decide the whole stack from a validated profile."""
    profile = loaded.profile
    services: dict[str, ServicePlan] = {}
    for name, spec in profile.services.items():
        services[name] = _service(name, spec, profile, roles[spec.kind])
    edges = _edges(profile, services)
    backups = tuple(job for name, spec in profile.services.items() for job in roles[spec.kind].backups(name, spec, profile))
    edges += tuple(
        Edge(job.name, job.service, port.port, port.protocol)
        for job in backups
        if job.calls_service and (port := services[job.service].primary_port) is not None
    )
    networks = _networks(services, _compose_edges(services, edges))
    targets = tuple(s.scrape for s in services.values() if s.scrape is not None)
    monitorings = []
    for platform in platforms_of(profile):
        catalogues: dict[str, tuple[str, ...]] = {t.job: t.catalogue for t in targets}
        for job, exporter in profile.monitoring.exporters.items():
            if platform in exporter.platforms:
                catalogues[job] = tuple(exporter.metrics)
        on_platform = backups if platform == "kubernetes" else ()
        monitorings.append(build_monitoring(profile, loaded.name, platform, services, targets, on_platform, catalogues, roles))
    return StackPlan(loaded.name, profile, services, edges, networks, backups, targets, tuple(monitorings), loaded.unpinned)


def _service(name: str, spec: ServiceSpec, profile: Profile, role: Role) -> ServicePlan:
    own_build, source = _build(name, spec, profile, role)
    image = _image(name, spec, profile)
    secrets = tuple(
        SecretMount(secret, f"{SECRETS_DIR}/{secret}", profile.secrets[secret].key)
        for secret in dict.fromkeys([*spec.secrets, *role.secrets(name, spec)])
    )
    env = {**role.env(name, spec, profile), **spec.env}
    health = spec.health
    probe = Probe(
        health.kind, health.port, health.path, tuple(probe_command(role.probe_program(spec), health)),
        health.interval, health.timeout, health.start_period, health.retries,
    )
    colours: tuple[str | None, ...] = (None,)
    release = profile.deployment.idle_release
    images: dict[str | None, str] = {None: image}
    if source is not None and not spec.storage and profile.deployment.strategy == "blue-green":
        colours = ("blue", "green")
        active = profile.deployment.active_color
        for colour in colours:
            images[colour] = image
            if colour != active and release is not None:
                repository = _image_ref(name, spec, profile).repository
                digest = release.digests.get(source)
                images[colour] = f"{repository}:{release.tag}" + (f"@{digest}" if digest else "")
    published: tuple[ServicePort, ...] = ()
    expose_port = _expose_port(spec)
    if profile.environment.compose_mode == "local":
        # A laptop reaches every stateless service on 127.0.0.1; data stores stay internal.
        published = tuple(spec.ports) if spec.storage is None else ()
    elif expose_port is not None:
        published = (expose_port,)
    return ServicePlan(
        name=name,
        kind=spec.kind,
        spec=spec,
        image=image,
        build=own_build,
        build_source=source,
        ports=tuple(spec.ports),
        command=tuple(spec.command) if spec.command is not None else role.command(name, spec),
        args=tuple(spec.args) if spec.args is not None else role.args(name, spec),
        env=env,
        secrets=secrets,
        probe=probe,
        files=role.files(name, spec, profile),
        sidecars=role.sidecars(name, spec, profile),
        scrape=role.scrape(name, spec),
        memory=role.memory(name, spec, profile),
        run_as=profile.build.user if source is not None else getattr(spec, "image_user", None),
        published=published,
        colours=colours,
        images_by_colour=images,
        expose_port=expose_port,
        update_monitor=monitor_window(profile, probe),
        seeded_dirs=tuple(getattr(spec, "seeded_dirs", ())),
        writable_root_reason=getattr(spec, "writable_root_reason", None),
    )


def monitor_window(profile: Profile, probe: Probe) -> str:
    """The swarm update monitor: the profile's, or longer when the health check's grace
    period is, since a task that turns unhealthy after starting must still be watched."""
    return f"{max(int(duration_seconds(profile.deployment.update.monitor)), probe.grace_seconds)}s"


def _expose_port(spec: ServiceSpec) -> ServicePort | None:
    if spec.expose is None or not spec.ports:
        return None
    if spec.expose.port is None:
        return spec.ports[0]
    return next(p for p in spec.ports if p.name == spec.expose.port)


def _image_ref(name: str, spec: ServiceSpec, profile: Profile) -> ImageRef:
    if isinstance(spec, AppService) and spec.build.source is not None:
        return _image_ref(spec.build.source, profile.services[spec.build.source], profile)
    image = getattr(spec, "image", None)
    if not isinstance(image, ImageRef):
        raise ValueError(f"service {name} has no image")  # the profile validator refuses this first
    return image


def _image(name: str, spec: ServiceSpec, profile: Profile) -> str:
    return str(_image_ref(name, spec, profile).reference)


def _build(name: str, spec: ServiceSpec, profile: Profile, role: Role) -> tuple[BuildPlan | None, str | None]:
    if not isinstance(spec, AppService):
        return None, None
    build = spec.build
    if build.source is not None:
        return None, build.source
    templates = role.dockerfile_templates
    if templates is None or build.base is None or build.context is None or build.command is None:
        return None, None
    base = profile.build.base_images[build.base]
    return BuildPlan(templates[0], templates[1], base.reference, build.context, tuple(build.command)), name


def _edges(profile: Profile, services: Mapping[str, ServicePlan]) -> tuple[Edge, ...]:
    edges = []
    for caller, spec in profile.services.items():
        for callee in spec.depends_on:
            port = services[callee].primary_port
            if port is not None:
                edges.append(Edge(caller, callee, port.port, port.protocol))
    return tuple(edges)


def _networks(services: Mapping[str, ServicePlan], edges: tuple[Edge, ...]) -> tuple[ComposeNetwork, ...]:
    """Compose networks that open exactly the planned paths.

    Services on one network can all reach each other, so each edge gets a network of
    its own with just its two ends: two callers of one database never share a network.
    A service (or sidecar) that meets the outside (published, scraped by Prometheus,
    or with egress ports) gets an ``-edge`` network of which it is the only member of
    the stack. That network has a route out only where the profile declares egress
    (``egress_ports``) or where publishing needs one: Docker publishes no port of a
    service that joins only internal networks. (A published service reaches outside
    either way, in a swarm through ``docker_gwbridge`` too; VR611 holds every route out
    to the declared egress.) A service with none of these gets a network of its own,
    so it never lands on ``default``.
    """
    networks: list[ComposeNetwork] = []
    joined: set[str] = set()
    for edge in edges:
        networks.append(ComposeNetwork(f"{edge.caller}-to-{edge.callee}", True, (edge.caller, edge.callee),
                                       f"{edge.caller} calls {edge.callee}"))
        joined |= {edge.caller, edge.callee}
    for service in services.values():
        members = [(service.name, bool(service.published), bool(service.egress_ports))]
        members += [(sidecar.compose_name, False, False) for sidecar in service.sidecars]
        for name, published, reaches_out in members:
            scraped = service.scrape is not None and service.scrape.host == name
            if published or reaches_out or scraped:
                why = [w for w, on in (("published", published), ("reaches out", reaches_out), ("scraped by Prometheus", scraped)) if on]
                networks.append(ComposeNetwork(f"{name}-edge", not (published or reaches_out), (name,),
                                               f"{name} meets the outside: " + ", ".join(why)))
            elif name not in joined:
                networks.append(ComposeNetwork(f"{name}-net", True, (name,), f"{name} on its own"))
    return tuple(networks)


def _compose_edges(services: Mapping[str, ServicePlan], edges: tuple[Edge, ...]) -> tuple[Edge, ...]:
    """The edges between compose services: the services' own, and each sidecar to its
    service (in a pod they share localhost; in compose the sidecar is a service)."""
    between = tuple(e for e in edges if e.caller in services and e.callee in services)
    sidecars = tuple(
        Edge(sidecar.compose_name, service.name, port.port, port.protocol)
        for service in services.values()
        if (port := service.primary_port) is not None
        for sidecar in service.sidecars
    )
    return between + sidecars
