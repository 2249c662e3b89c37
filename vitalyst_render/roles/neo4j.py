"""``neo4j``: a Neo4j 5 graph database from the upstream image.

Its heap and page cache are typed here (``memory``) and reach the container as the
``NEO4J_server_memory_*`` settings of Neo4j 5 (never the 4.x ``dbms.memory.*`` names);
together they must leave the JVM room inside the memory limit (VR603). On Kubernetes a
``backup`` schedules a ``neo4j-admin database dump`` CronJob onto a claim of its own.
HTTP probes run bash's ``/dev/tcp``: the image has no HTTP client.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import ClassVar, Literal

from pydantic import Field

from ..monitoring import Alert, AlertContext, Panel, Scenario, selector
from ..plan import BackupJob, JobMount, JobVolume, MemoryBudget, MemorySource, ServicePlan, backup_claim
from ..profile.models import BackupSchedule, Model, Profile, ReferenceProblem, Resources, ServiceSpec, UpstreamService
from ..profile.types import JvmSize
from .base import Role

HEAP_INITIAL = "NEO4J_server_memory_heap_initial__size"
HEAP_MAX = "NEO4J_server_memory_heap_max__size"
PAGECACHE = "NEO4J_server_memory_pagecache_size"


class Neo4jMemory(Model):
    heap: JvmSize = Field(description="JVM heap (initial and maximum), e.g. 3g.")
    pagecache: JvmSize = Field(description="Page cache for the store files, e.g. 3g.")


class Neo4jService(UpstreamService):
    kind: Literal["neo4j"] = Field(description="A Neo4j 5 database from the upstream image.")
    memory: Neo4jMemory = Field(description="Heap and page cache; with the JVM's own use they must fit the memory limit.")
    backup: BackupSchedule | None = Field(
        default=None, description="Kubernetes: a nightly neo4j-admin database dump (required on Kubernetes)."
    )

    def references(self, name: str, profile: Profile) -> Iterator[ReferenceProblem]:
        yield from super().references(name, profile)
        if self.storage is None:
            yield ReferenceProblem((), f"a {self.kind} service keeps data: it needs a storage section")
        for key in (HEAP_INITIAL, HEAP_MAX, PAGECACHE):
            if key in self.env:
                yield ReferenceProblem(("env", key), "set the heap and page cache under memory, not in env")
        if profile.on_kubernetes and self.backup is None:
            yield ReferenceProblem((), "a database on Kubernetes needs a backup section (schedule, retention, volume)")


_DUMP = """set -euo pipefail
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "/backups/{name}/$stamp"
neo4j-admin database dump neo4j --to-path="/backups/{name}/$stamp"
find /backups/{name} -mindepth 1 -maxdepth 1 -type d -mtime +{days} -exec rm -rf {{}} +
"""


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
        if service.backup is None or service.storage is None or not profile.on_kubernetes:
            return ()
        schedule = service.backup
        return (
            BackupJob(
                service=name,
                timing=schedule,
                comment=(
                    "neo4j-admin database dump needs the database offline on Community Edition, and the\n"
                    "data volume is ReadWriteOnce: schedule it in a maintenance window in which the\n"
                    "database is scaled to 0 (or use Enterprise's online backup). While it runs, the\n"
                    "dump fails and BackupJobFailed says so."
                ),
                starting_deadline_seconds=3600,
                backoff_limit=1,
                active_deadline_seconds=14400,
                container="dump",
                image=service.image.reference,
                script=_DUMP.format(name=name, days=schedule.retention_days),
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
            ),
        )

    def alerts(self, services: Sequence[ServicePlan], context: AlertContext) -> list[Alert]:
        first = services[0]
        if context.namespace is not None:
            ns = context.namespace
            names = "|".join(s.name for s in services)
            ksm = {"job": "kube-state-metrics", "instance": "10.0.3.7:8080", "namespace": ns, "statefulset": first.name}
            sel = selector(ksm)
            return [Alert(
                "Neo4jNotReady",
                f'kube_statefulset_status_replicas_ready{{namespace="{ns}", statefulset=~"{names}"}}\n'
                f'  < kube_statefulset_replicas{{namespace="{ns}", statefulset=~"{names}"}}',
                context.alert_for, "critical",
                "Neo4j is not ready",
                "StatefulSet {{ $labels.statefulset }} in {{ $labels.namespace }} has fewer ready replicas than it wants: "
                "the graph is unavailable.",
                Scenario({f"kube_statefulset_replicas{sel}": "1x30", f"kube_statefulset_status_replicas_ready{sel}": "1x5 0x25"},
                         "15m", [{**ksm, "severity": "critical"}]),
                # Scaled to zero on purpose (a maintenance window): nothing is missing.
                Scenario({f"kube_statefulset_replicas{sel}": "1x5 0x25", f"kube_statefulset_status_replicas_ready{sel}": "1x5 0x25"}, "15m"),
            )]
        naming = context.naming
        label = naming.service_label
        # Docker does not export health; swarm replaces a task that fails its health check
        # and compose restarts it, so a Neo4j that never turns healthy shows as restarts
        # (ContainerRestarting) and as no running container at all, which cAdvisor shows.
        present = {**naming.series_labels(first.name), "job": naming.cadvisor_job, "instance": naming.cadvisor_instance,
                   "id": "/system.slice/docker-4b5c6d7e.scope", "image": first.image}
        other = {**present, label: naming.service("backend"), "name": naming.container("backend")["name"]}
        scope = naming.scope.split("=", 1)
        absent = {scope[0]: scope[1].strip('"'), label: naming.service(first.name)}
        replaced = {**present, "name": naming.container(first.name, task="n8m7b6v5c4")["name"], "id": "/system.slice/docker-8c9d0e1f.scope"}
        return [Alert(
            "Neo4jDown",
            "\nor\n".join(f'absent(container_last_seen{{{naming.scope}, {label}="{naming.service(s.name)}"}})' for s in services),
            context.alert_for, "critical",
            "No Neo4j container is running",
            "No container of {{ $labels." + label + " }} has run for " + context.alert_for + ": the graph is unavailable.",
            Scenario({f"container_last_seen{selector(other)}": "1700000000+60x30",
                      f"container_last_seen{selector(present)}": "1700000000+60x2"}, "15m", [{**absent, "severity": "critical"}]),
            # The container was replaced (a new task, a new name): Neo4j still runs.
            Scenario({f"container_last_seen{selector(present)}": "1700000000+60x5",
                      f"container_last_seen{selector(replaced)}": "_x5 1700000360+60x25"}, "15m"),
        )]

    def panels(self, services: Sequence[ServicePlan], context: AlertContext) -> list[Panel]:
        names = "|".join(s.name for s in services)
        if context.namespace is not None:
            expr = f'kube_statefulset_status_replicas_ready{{namespace="{context.namespace}", statefulset=~"{names}"}}'
            return [Panel("Neo4j ready", "short", expr, "{{statefulset}}")]
        naming = context.naming
        values = "|".join(naming.service(s.name) for s in services)
        expr = f'count by ({naming.service_label}) (container_last_seen{{{naming.scope}, {naming.service_label}=~"{values}"}})'
        return [Panel("Neo4j containers running", "short", expr, "{{" + naming.service_label + "}}")]
