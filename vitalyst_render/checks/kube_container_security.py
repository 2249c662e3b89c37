"""VR302–VR305: per-container security settings, one check each."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .base import Problem, Severity, check
from .context import CheckContext
from .examples import ADD_DOCS, ADD_WORKER, Edit, Expect, Fail, Pass

#: What the pod or container security context says, parsed: any YAML mapping.
SecurityContext = dict[str, Any]

BACKEND = "kubernetes/backend.yaml"
#: Every container of the staging stack: the services', the init container, the
#: exporter sidecar, the backup jobs' and the Neo4j backup window's.
STAGING_CONTAINERS = (
    ("kubernetes/backend.yaml", "Deployment backend container 'backend'"),
    ("kubernetes/frontend.yaml", "Deployment frontend container 'frontend'"),
    ("kubernetes/neo4j.yaml", "StatefulSet neo4j container 'seed'"),
    ("kubernetes/neo4j.yaml", "StatefulSet neo4j container 'neo4j'"),
    ("kubernetes/redis.yaml", "StatefulSet redis container 'redis'"),
    ("kubernetes/redis.yaml", "StatefulSet redis container 'metrics'"),
    ("kubernetes/backups.yaml", "CronJob neo4j-dump container 'dump'"),
    ("kubernetes/backups.yaml", "CronJob neo4j-backup container 'window'"),
    ("kubernetes/backups.yaml", "CronJob redis-backup container 'rdb'"),
)


def _every_container(problem: str) -> list[Expect]:
    return [Expect(file, f"{who} {problem}") for file, who in STAGING_CONTAINERS]


def _each_container(ctx: CheckContext, test: Callable[[SecurityContext, SecurityContext], str | None]) -> Iterable[Problem]:
    """Yield a Problem for every container where ``test(container_ctx, pod_ctx)`` says what is wrong."""
    for found in ctx.containers:
        obj, container = found.obj, found.container
        problem = test(container.get("securityContext") or {}, found.pod.get("securityContext") or {})
        if problem:
            yield Problem(f"{obj.label} container {container.get('name')!r} {problem}", obj.at(*found.path))


def _get(context: Any, *keys: str) -> Any:
    for key in keys:
        context = context.get(key) if isinstance(context, dict) else None
    return context


EXAMPLES_VR302 = (
    Fail(
        "the profile turns security.read_only_root_filesystem off: every container, init and sidecar included",
        profile="staging",
        overlay="security:\n  read_only_root_filesystem: false\n",
        expect=_every_container("has a writable root filesystem"),
    ),
    Fail(
        "a container whose securityContext lost readOnlyRootFilesystem",
        profile="staging",
        edits=[Edit(BACKEND, "            readOnlyRootFilesystem: true\n", "")],
        expect=[Expect(BACKEND, "Deployment backend container 'backend' has a writable root filesystem")],
    ),
    Pass("an nginx added in the profile writes /var/cache/nginx: a scratch path keeps its root read-only", overlay=ADD_DOCS),
)


@check("VR302", "k8s-read-only-root", "container root filesystem is writable", Severity.ERROR, examples=EXAMPLES_VR302)
def read_only_root(ctx: CheckContext) -> Iterable[Problem]:
    """Every container sets ``readOnlyRootFilesystem: true``; scratch paths are
    ``emptyDir`` volumes, and folders an image writes at start are seeded into
    ``emptyDir`` by an init container (``seeded_dirs``).

    Remediation: keep ``security.read_only_root_filesystem: true`` and list the paths
    a service writes in its ``scratch_paths`` or ``seeded_dirs``.
    """
    yield from _each_container(ctx, lambda c, p: None if c.get("readOnlyRootFilesystem") is True else "has a writable root filesystem")


EXAMPLES_VR303 = (
    Fail(
        "the profile turns security.no_new_privileges off: every container may escalate",
        profile="staging",
        overlay="security:\n  no_new_privileges: false\n",
        expect=_every_container("allows privilege escalation"),
    ),
    Fail(
        "a container that leaves allowPrivilegeEscalation unset (the default allows it)",
        profile="staging",
        edits=[Edit(BACKEND, "            allowPrivilegeEscalation: false\n", "")],
        expect=[Expect(BACKEND, "Deployment backend container 'backend' allows privilege escalation")],
    ),
    Fail(
        "a privileged container",
        profile="staging",
        edits=[Edit(BACKEND, "privileged: false", "privileged: true")],
        expect=[Expect(BACKEND, "Deployment backend container 'backend' is privileged")],
    ),
    Pass("a worker added in the profile gets the same hardened securityContext", overlay=ADD_WORKER),
)


@check("VR303", "k8s-privilege-escalation", "container may escalate privileges", Severity.ERROR, examples=EXAMPLES_VR303)
def privilege_escalation(ctx: CheckContext) -> Iterable[Problem]:
    """Every container sets ``allowPrivilegeEscalation: false`` (setuid binaries cannot
    gain privileges) and is not ``privileged``.

    Remediation: keep ``security.no_new_privileges: true``.
    """

    def test(container: SecurityContext, pod: SecurityContext) -> str | None:
        if container.get("privileged") is True:
            return "is privileged"
        if container.get("allowPrivilegeEscalation") is not False:
            return "allows privilege escalation"
        return None

    yield from _each_container(ctx, test)


EXAMPLES_VR304 = (
    Fail(
        "the profile drops only NET_RAW: every container keeps the rest",
        profile="staging",
        overlay="security:\n  drop_capabilities: [NET_RAW]\n",
        expect=_every_container("does not drop ALL capabilities"),
    ),
    Fail(
        "a container that drops ALL and adds NET_ADMIN back",
        profile="staging",
        edits=[Edit(BACKEND, "              drop:\n                - ALL\n",
                    "              drop:\n                - ALL\n              add:\n                - NET_ADMIN\n")],
        expect=[Expect(BACKEND, "Deployment backend container 'backend' adds capabilities ['NET_ADMIN']")],
    ),
    Pass("an unprivileged nginx added in the profile (on port 8080) drops ALL capabilities too", overlay=ADD_DOCS),
)


@check("VR304", "k8s-capabilities", "container keeps Linux capabilities", Severity.ERROR, examples=EXAMPLES_VR304)
def capabilities(ctx: CheckContext) -> Iterable[Problem]:
    """Every container drops ``ALL`` capabilities and adds none back.

    Remediation: keep ``security.drop_capabilities: [ALL]``.
    """

    def test(container: SecurityContext, pod: SecurityContext) -> str | None:
        if "ALL" not in (_get(container, "capabilities", "drop") or []):
            return "does not drop ALL capabilities"
        if _get(container, "capabilities", "add"):
            return f"adds capabilities {_get(container, 'capabilities', 'add')}"
        return None

    yield from _each_container(ctx, test)


EXAMPLES_VR305 = (
    Fail(
        "pod and container both ask for seccompProfile Unconfined",
        profile="staging",
        edits=[Edit(BACKEND, "type: RuntimeDefault", "type: Unconfined")],
        expect=[Expect(BACKEND, "Deployment backend container 'backend' has seccomp profile Unconfined")],
    ),
    Fail(
        "an init container without a seccomp profile, in a pod that sets none either",
        profile="staging",
        edits=[
            Edit("kubernetes/neo4j.yaml", "        fsGroup: 10001\n        seccompProfile:\n          type: RuntimeDefault\n", "        fsGroup: 10001\n"),
            Edit("kubernetes/neo4j.yaml",
                 "                - ALL\n            seccompProfile:\n              type: RuntimeDefault\n          volumeMounts:\n            - name: seeded-1\n",
                 "                - ALL\n          volumeMounts:\n            - name: seeded-1\n"),
        ],
        expect=[Expect("kubernetes/neo4j.yaml", "StatefulSet neo4j container 'seed' has seccomp profile unset")],
    ),
    Pass(
        "a container without a seccompProfile of its own inherits the pod's RuntimeDefault",
        profile="staging",
        edits=[Edit(BACKEND, "            seccompProfile:\n              type: RuntimeDefault\n", "")],
    ),
)


@check("VR305", "k8s-seccomp", "container runs without a seccomp profile", Severity.ERROR, examples=EXAMPLES_VR305)
def seccomp(ctx: CheckContext) -> Iterable[Problem]:
    """Every container runs under ``seccompProfile: RuntimeDefault`` (or ``Localhost``),
    set on the container or the pod, as Pod Security ``restricted`` requires.

    Remediation: keep ``security.seccomp_profile: RuntimeDefault``.
    """

    def test(container: SecurityContext, pod: SecurityContext) -> str | None:
        kind = _get(container, "seccompProfile", "type") or _get(pod, "seccompProfile", "type")
        return None if kind in ("RuntimeDefault", "Localhost") else f"has seccomp profile {kind or 'unset'}"

    yield from _each_container(ctx, test)
