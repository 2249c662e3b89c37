"""``neo4j``: a Neo4j 5 graph database from the upstream image.

Its heap and page cache are typed here (``memory``) and reach the container as the
``NEO4J_server_memory_*`` settings of Neo4j 5 (never the 4.x ``dbms.memory.*`` names);
together they must leave the JVM room inside the memory limit (VR603). HTTP probes run
bash's ``/dev/tcp``: the image has no HTTP client.

On Kubernetes the ``backup`` section is a decision. Neo4j Community 5 has no online
backup (``neo4j-admin database dump`` needs the database stopped) and the data volume is
ReadWriteOnce, so a dump beside the running database can only fail. ``maintenance-window``
schedules a pod that scales the StatefulSet to 0, waits for its pod to go, runs the dump
as a Job made from a suspended CronJob (the only other pod that mounts the data claim),
and scales back under a trap; ``Neo4jBackupWindowStuck`` fires when the database stays at
0 replicas past the window. ``none`` renders no job and needs a written reason, which
every report shows (VR612).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import ClassVar, Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from ..monitoring import Alert, AlertContext, Panel, Scenario, selector
from ..promql import alternation, matcher
from ..plan import (
    BackupJob,
    JobMount,
    JobVolume,
    MaintenanceWindow,
    MemoryBudget,
    MemorySource,
    RoleRule,
    ServicePlan,
    backup_claim,
)
from ..profile.models import BackupSchedule, ImageRef, Model, Profile, ReferenceProblem, Resources, ServiceSpec, UpstreamService
from ..profile.limits import LatenessDuration, Neo4jSize, VolumeSize
from ..profile.types import CronSchedule, PositiveInt, PositiveSeconds, WrittenReason, duration_seconds
from ..shell import fill, plain, word
from .base import Role

HEAP_INITIAL = "NEO4J_server_memory_heap_initial__size"
HEAP_MAX = "NEO4J_server_memory_heap_max__size"
PAGECACHE = "NEO4J_server_memory_pagecache_size"


class Neo4jMemory(Model):
    heap: Neo4jSize = Field(description="JVM heap (initial and maximum), e.g. 3g.")
    pagecache: Neo4jSize = Field(description="Page cache for the store files, e.g. 3g.")


#: How long past the window Neo4jBackupWindowStuck waits before it says the database was left down.
STUCK_MARGIN_MINUTES = 15
_WINDOW_FIELDS = ("schedule", "retention_days", "alert_after", "volume_size", "kubectl_image")


class Neo4jBackup(Model):
    """How a Neo4j database on Kubernetes is backed up, or why it is not."""

    method: Literal["maintenance-window", "none"] = Field(
        description="maintenance-window: every schedule, scale the StatefulSet to 0, dump, scale back (Neo4j is down for "
        "the dump; RPO is the schedule interval plus the dump). none: no backup job at all; needs a reason, shown in "
        "every report (VR612). Community Edition has no online backup, so these are the choices."
    )
    reason: WrittenReason | None = Field(
        default=None, description="method none: why this database needs no backup (every report shows it)."
    )
    schedule: CronSchedule | None = Field(default=None, description="maintenance-window: when the window opens (cron, UTC).")
    retention_days: PositiveInt | None = Field(default=None, description="maintenance-window: days a dump is kept.")
    alert_after: LatenessDuration | None = Field(
        default=None, description="maintenance-window: time without a successful window after which BackupLate fires."
    )
    volume_size: VolumeSize | None = Field(
        default=None, description="maintenance-window: size of the PersistentVolumeClaim that holds the dumps."
    )
    window: PositiveSeconds = Field(
        default="1h",
        description="maintenance-window: the longest the database stays down for one dump. The window gives up and "
        "scales back when the dump takes longer, the dump Job is killed at this deadline, and "
        "Neo4jBackupWindowStuck fires when the database is at 0 replicas 15 minutes past it.",
    )
    kubectl_image: ImageRef | None = Field(
        default=None,
        description="maintenance-window: the image of the window pod; it needs bash and a kubectl within one minor "
        "version of the cluster.",
    )

    @model_validator(mode="after")
    def _decided(self) -> Neo4jBackup:
        if self.method == "none" and self.reason is None:
            raise PydanticCustomError("vr", "method none needs a reason: why this database goes without a backup", {})
        if self.method == "maintenance-window":
            missing = [name for name in _WINDOW_FIELDS if getattr(self, name) is None]
            if missing:
                raise PydanticCustomError("vr", "method maintenance-window needs {fields}", {"fields": ", ".join(missing)})
        return self

    @property
    def timing(self) -> BackupSchedule:
        """The window's schedule, retention, lateness alert and volume, as every backup job has them."""
        return BackupSchedule.model_validate(
            {"schedule": self.schedule, "retention_days": self.retention_days, "alert_after": self.alert_after,
             "volume_size": self.volume_size}
        )

    @property
    def window_seconds(self) -> int:
        return int(duration_seconds(self.window))

    @property
    def stuck_minutes(self) -> int:
        """How long the database may sit at 0 replicas before Neo4jBackupWindowStuck fires."""
        return self.window_seconds // 60 + STUCK_MARGIN_MINUTES

    @property
    def rpo(self) -> str:
        """The recovery point objective a window gives, in words, for the runbook."""
        return f"at most {cron_interval(str(self.schedule))} plus the dump's duration (at most {self.window})"


def cron_interval(schedule: str) -> str:
    """The time between two runs of a simple cron schedule, in words; the schedule itself otherwise."""
    minute, hour, day, month, weekday = schedule.split()
    fixed = minute.isdigit()
    if fixed and hour.isdigit() and day == month == "*":
        return "a day" if weekday == "*" else ("a week" if weekday.isdigit() else f"the longest gap between two runs of `{schedule}`")
    if fixed and hour == day == month == weekday == "*":
        return "an hour"
    return f"the longest gap between two runs of `{schedule}`"


class Neo4jService(UpstreamService):
    kind: Literal["neo4j"] = Field(description="A Neo4j 5 database from the upstream image.")
    memory: Neo4jMemory = Field(description="Heap and page cache; with the JVM's own use they must fit the memory limit.")
    backup: Neo4jBackup | None = Field(
        default=None,
        description="Kubernetes (required there): how the database is backed up (method maintenance-window), or why "
        "it is not (method none, with a reason). Under none the schedule fields are not used.",
    )

    def references(self, name: str, profile: Profile) -> Iterator[ReferenceProblem]:
        yield from super().references(name, profile)
        if self.storage is None:
            yield ReferenceProblem((), f"a {self.kind} service keeps data: it needs a storage section")
        for key in (HEAP_INITIAL, HEAP_MAX, PAGECACHE):
            if key in self.env:
                yield ReferenceProblem(("env", key), "set the heap and page cache under memory, not in env")
        if profile.on_kubernetes and self.backup is None:
            yield ReferenceProblem((), "a database on Kubernetes needs a backup section: method maintenance-window "
                                       "(schedule, retention_days, alert_after, volume_size, kubectl_image) or method none with a reason")


_DUMP = """set -euo pipefail
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "/backups/{name}/$stamp"
neo4j-admin database dump neo4j --to-path="/backups/{name}/$stamp"
find /backups/{name} -mindepth 1 -maxdepth 1 -type d -mtime +{days} -exec rm -rf {{}} +
"""

#: Seconds the trap waits for a stopped dump's pod to terminate before it scales back anyway.
_STOP_WAIT = 300

#: The maintenance window. The database comes back whatever happens to the dump: the
#: scale back is an EXIT trap, armed before the scale down, and a kill (the Job's own
#: deadline) turns into an exit. A dump still running at the deadline is deleted, and
#: its pod given time to release the store lock, before Neo4j returns. A StatefulSet
#: already at 0 (a restore in progress, or a window whose pod died hard) is left alone.
_WINDOW = """set -euo pipefail
export HOME=/tmp  # kubectl keeps its cache under $HOME; the root filesystem is read-only
namespace=@NAMESPACE@
statefulset=@STATEFULSET@
selector=@SELECTOR@
job="@JOB@-$(date -u +%Y%m%d%H%M%S)"
deadline=$(( $(date +%s) + @SECONDS@ ))
k() { kubectl --namespace "$namespace" --request-timeout=30s "$@"; }

replicas="$(k get "statefulset/$statefulset" -o 'jsonpath={.spec.replicas}')"
if [ "${replicas:-0}" -eq 0 ]; then
  echo "statefulset/$statefulset is already at 0 replicas (a restore, or a window that died): left alone" >&2
  exit 1
fi

finished=no
scale_back() {
  status=$?
  trap - EXIT
  set +e
  if [ "$finished" = no ] && [ -n "$(k get "job/$job" --ignore-not-found -o name)" ]; then
    echo "stopping dump $job before $statefulset returns" >&2
    k delete "job/$job" --cascade=foreground --wait=false
    give_up=$(( $(date +%s) + @STOP_WAIT@ ))
    while [ -n "$(k get pods --selector "job-name=$job" --field-selector=status.phase!=Succeeded,status.phase!=Failed -o name)" ] \
        && [ "$(date +%s)" -lt "$give_up" ]; do
      sleep 10
    done
  fi
  echo "scaling statefulset/$statefulset back to $replicas replicas"
  k scale "statefulset/$statefulset" --replicas="$replicas" || status=1
  exit "$status"
}
trap scale_back EXIT
trap 'exit 143' TERM INT

echo "scaling statefulset/$statefulset from $replicas replicas to 0 for the dump"
k scale "statefulset/$statefulset" --current-replicas="$replicas" --replicas=0
until [ -z "$(k get pods --selector "$selector" -o name)" ]; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "the pods of statefulset/$statefulset did not stop within the window (@WINDOW@)" >&2
    exit 1
  fi
  sleep 15
done

k create job "$job" --from=cronjob/@DUMP@
while :; do
  conditions=" $(k get "job/$job" -o 'jsonpath={.status.conditions[?(@.status=="True")].type}') "
  case "$conditions" in
    *" Complete "*) finished=yes; echo "dump $job complete"; break ;;
    *" Failed "*) finished=yes; echo "dump $job failed: kubectl --namespace $namespace logs job/$job" >&2; exit 1 ;;
  esac
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "dump $job did not finish within the window (@WINDOW@)" >&2
    exit 1
  fi
  sleep 30
done
"""

def window_script(namespace: str, statefulset: str, selector_labels: str, job: str, dump: str, backup: Neo4jBackup) -> str:
    values = {
        "@NAMESPACE@": word(namespace), "@STATEFULSET@": word(statefulset), "@SELECTOR@": word(selector_labels),
        "@JOB@": plain(job), "@DUMP@": plain(dump),
        "@SECONDS@": plain(backup.window_seconds), "@STOP_WAIT@": plain(_STOP_WAIT), "@WINDOW@": plain(backup.window),
    }
    script = _WINDOW
    for key, value in values.items():
        script = script.replace(key, value)
    return script


class Neo4jRole(Role):
    kind: ClassVar[str] = "neo4j"
    model = Neo4jService
    http_probe = "bash"

    def env(self, name: str, service: ServiceSpec, profile: Profile) -> dict[str, str]:
        assert isinstance(service, Neo4jService)
        memory = service.memory
        return {HEAP_INITIAL: memory.heap, HEAP_MAX: memory.heap, PAGECACHE: memory.pagecache}

    def memory(self, name: str, service: ServiceSpec, profile: Profile) -> MemoryBudget:
        return MemoryBudget(
            (MemorySource("env", HEAP_MAX, "jvm"), MemorySource("env", PAGECACHE, "jvm")),
            0.9,
            "heap + page cache (the JVM needs the rest)",
        )

    def backups(self, name: str, service: ServiceSpec, profile: Profile) -> tuple[BackupJob, ...]:
        assert isinstance(service, Neo4jService)
        kubernetes = profile.environment.kubernetes
        backup = service.backup
        if backup is None or backup.method != "maintenance-window" or service.storage is None or kubernetes is None:
            return ()
        assert backup.kubectl_image is not None
        schedule = backup.timing
        job, dump = f"{name}-backup", f"{name}-dump"
        labels = f"app.kubernetes.io/name={name},app.kubernetes.io/part-of={profile.project.name}"
        window = MaintenanceWindow(
            statefulset=name,
            dump=dump,
            account=job,
            image=backup.kubectl_image.reference,
            script=window_script(kubernetes.namespace, name, labels, job, dump, backup),
            resources=Resources.model_validate({"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "256Mi"}}),
            rules=(
                RoleRule("apps", "statefulsets", ("get",), (name,)),
                RoleRule("apps", "statefulsets/scale", ("get", "patch"), (name,)),
                RoleRule("", "pods", ("get", "list")),
                RoleRule("batch", "cronjobs", ("get",), (dump,)),
                RoleRule("batch", "jobs", ("create", "get", "delete")),
            ),
            seconds=backup.window_seconds,
            stop_wait_seconds=_STOP_WAIT,
            api_cidrs=tuple(kubernetes.api_server_cidrs),
            api_ports=tuple(kubernetes.api_server_ports),
        )
        return (
            BackupJob(
                service=name,
                timing=schedule,
                comment=(
                    "Neo4j Community has no online backup and its volume is ReadWriteOnce: the dump runs in a\n"
                    "maintenance window. Every schedule this pod scales the StatefulSet to 0, waits for its pod to\n"
                    f"go, runs the dump as a Job made from the suspended CronJob {dump}, and scales back (a trap,\n"
                    f"also when the dump fails or outlasts the window of {backup.window}). Neo4jBackupWindowStuck fires\n"
                    "when a window that died left the database at 0 replicas."
                ),
                starting_deadline_seconds=600,  # a late window takes the database down later: skip the night instead
                backoff_limit=0,  # a dump's retry gains nothing; the window decides
                active_deadline_seconds=backup.window_seconds,
                container="dump",
                image=service.image.reference,
                script=fill(_DUMP, name=name, days=schedule.retention_days),
                resources=Resources.model_validate({"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}}),
                mounts=(
                    JobMount("data", service.storage.mount),
                    JobMount("backups", "/backups"),
                    JobMount("scratch", "/tmp"),
                    JobMount("logs", "/var/lib/neo4j/logs"),
                ),
                volumes=(
                    JobVolume("data", claim=f"data-{name}-0"),
                    JobVolume("backups", claim=backup_claim(name)),
                    JobVolume("scratch", empty_dir="256Mi"),
                    JobVolume("logs", empty_dir="64Mi"),
                ),
                calls_service=False,
                window=window,
                ttl_seconds_after_finished=7 * 86400,  # the dump Jobs the window made, kept a week for their logs
            ),
        )

    def alerts(self, services: Sequence[ServicePlan], context: AlertContext) -> list[Alert]:
        if context.namespace is not None:
            return [self._not_ready(services, context), *self._window_stuck(services, context)]
        return [self._down(services, context)]

    def _not_ready(self, services: Sequence[ServicePlan], context: AlertContext) -> Alert:
        first = services[0]
        ns = context.namespace
        assert ns is not None  # a Kubernetes alert
        names = matcher("statefulset", alternation(s.name for s in services), "=~")
        ksm = {"job": "kube-state-metrics", "instance": "10.0.3.7:8080", "namespace": ns, "statefulset": first.name}
        sel = selector(ksm)
        return Alert(
            "Neo4jNotReady",
            f'kube_statefulset_status_replicas_ready{{{matcher("namespace", ns)}, {names}}}\n'
            f'  < kube_statefulset_replicas{{{matcher("namespace", ns)}, {names}}}',
            context.alert_for, "critical",
            "Neo4j is not ready",
            "StatefulSet {{ $labels.statefulset }} in {{ $labels.namespace }} has fewer ready replicas than it wants: "
            "the graph is unavailable.",
            Scenario({f"kube_statefulset_replicas{sel}": "1x30", f"kube_statefulset_status_replicas_ready{sel}": "1x5 0x25"},
                     "15m", [{**ksm, "severity": "critical"}]),
            # Scaled to zero on purpose (a maintenance window): nothing is missing.
            Scenario({f"kube_statefulset_replicas{sel}": "1x5 0x25", f"kube_statefulset_status_replicas_ready{sel}": "1x5 0x25"}, "15m"),
        )

    def _down(self, services: Sequence[ServicePlan], context: AlertContext) -> Alert:
        first = services[0]
        naming = context.naming
        label = naming.service_label
        # Docker does not export health; swarm replaces a task that fails its health check
        # and compose restarts it, so a Neo4j that never turns healthy shows as restarts
        # (ContainerRestarting) and as no running container at all, which cAdvisor shows.
        present = {**naming.series_labels(first.name), "job": naming.cadvisor_job, "instance": naming.cadvisor_instance,
                   "id": "/system.slice/docker-4b5c6d7e.scope", "image": first.image}
        other = {**present, label: naming.service("backend"), "name": naming.container("backend")["name"]}
        absent = {naming.scope_label: naming.project, label: naming.service(first.name)}
        replaced = {**present, "name": naming.container(first.name, task="n8m7b6v5c4")["name"], "id": "/system.slice/docker-8c9d0e1f.scope"}
        # The rule has one absent() per Neo4j service: the others keep running in every
        # scenario, or each would fire for its own missing series.
        running = {
            f"container_last_seen{selector({**present, label: naming.service(s.name), 'name': naming.container(s.name)['name'], 'image': s.image})}":
                "1700000000+60x30"
            for s in services[1:]
        }
        return Alert(
            "Neo4jDown",
            "\nor\n".join(f'absent(container_last_seen{{{naming.scope}, {matcher(label, naming.service(s.name))}}})' for s in services),
            context.alert_for, "critical",
            "No Neo4j container is running",
            "No container of {{ $labels." + label + " }} has run for " + context.alert_for + ": the graph is unavailable.",
            Scenario({f"container_last_seen{selector(other)}": "1700000000+60x30",
                      f"container_last_seen{selector(present)}": "1700000000+60x2", **running}, "15m", [{**absent, "severity": "critical"}]),
            # The container was replaced (a new task, a new name): Neo4j still runs.
            Scenario({f"container_last_seen{selector(present)}": "1700000000+60x5",
                      f"container_last_seen{selector(replaced)}": "_x5 1700000360+60x25", **running}, "15m"),
        )

    def _window_stuck(self, services: Sequence[ServicePlan], context: AlertContext) -> list[Alert]:
        namespace = context.namespace
        windowed = [s for s in services if isinstance(s.spec, Neo4jService) and s.spec.backup is not None
                    and s.spec.backup.method == "maintenance-window"]
        if namespace is None or not windowed:
            return []
        first = windowed[0]
        assert isinstance(first.spec, Neo4jService) and first.spec.backup is not None
        # One rule for all: it waits out the longest window plus the margin.
        stuck_for = max(s.spec.backup.stuck_minutes for s in windowed if isinstance(s.spec, Neo4jService) and s.spec.backup)
        match = (matcher("statefulset", windowed[0].name) if len(windowed) == 1
                 else matcher("statefulset", alternation(s.name for s in windowed), "=~"))
        ksm = {"namespace": namespace, "statefulset": first.name, "job": "kube-state-metrics", "instance": "10.0.3.7:8080"}
        series = f"kube_statefulset_replicas{selector(ksm)}"
        return [
            Alert(
                "Neo4jBackupWindowStuck",
                f'kube_statefulset_replicas{{{matcher("namespace", namespace)}, {match}}} == 0', f"{stuck_for}m", "critical",
                "Neo4j left scaled to 0 after its backup window",
                "StatefulSet {{ $labels.statefulset }} in {{ $labels.namespace }} has had 0 replicas for longer than its "
                "backup window: the window pod died before its trap scaled it back (or a restore is still running). "
                "Scale it back with kubectl scale --replicas=1.",
                # A window whose pod died: the database stays at 0.
                Scenario({series: f"1x5 0x{stuck_for + 20}"}, f"{stuck_for + 20}m", [{**ksm, "severity": "critical"}]),
                # A normal night: 0 replicas for a 20-minute dump, then back.
                Scenario({series: f"1x5 0x20 1x{stuck_for + 20}"}, f"{stuck_for + 20}m"),
            )
        ]

    def panels(self, services: Sequence[ServicePlan], context: AlertContext) -> list[Panel]:
        names = alternation(s.name for s in services)
        if context.namespace is not None:
            expr = f'kube_statefulset_status_replicas_ready{{{matcher("namespace", context.namespace)}, {matcher("statefulset", names, "=~")}}}'
            return [Panel("Neo4j ready", "short", expr, "{{statefulset}}")]
        naming = context.naming
        values = alternation(naming.service(s.name) for s in services)
        expr = f'count by ({naming.service_label}) (container_last_seen{{{naming.scope}, {matcher(naming.service_label, values, "=~")}}})'
        return [Panel("Neo4j containers running", "short", expr, "{{" + naming.service_label + "}}")]
