"""VR610: every ``*_FILE`` variable that points at a secret file names one the container mounts there."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator
from typing import Any

from ..errors import Location
from ..profile.models import SECRETS_DIR
from .base import Problem, Severity, check
from .context import COMPOSE, CheckContext, Container
from .examples import ADD_WORKER, Edit, Expect, Fail, Pass

_NEO4J_COMPOSE_MOUNT = (
    '    secrets:\n      - source: neo4j-auth\n        target: /run/secrets/neo4j-auth\n'
    '        uid: "7474"\n        gid: "7474"\n        mode: 256\n'
)
_NEO4J_KUBE_MOUNT = "              mountPath: /run/secrets/neo4j-auth\n              subPath: value\n"
_BACKEND_KUBE_MOUNT = "- name: secret-redis-app-password\n              mountPath: /run/secrets/redis-app-password\n"

EXAMPLES = (
    Fail(
        "the compose file loses neo4j's secret mount but keeps NEO4J_AUTH_FILE",
        edits=[Edit(COMPOSE, _NEO4J_COMPOSE_MOUNT, "")],
        expect=[Expect(COMPOSE, "service neo4j: NEO4J_AUTH_FILE names /run/secrets/neo4j-auth, but the service mounts no secret there")],
    ),
    Fail(
        "a pod mounts the backend's Redis password elsewhere (both colours of blue-green)",
        edits=[Edit("kubernetes/backend.yaml", _BACKEND_KUBE_MOUNT, _BACKEND_KUBE_MOUNT.replace("/run/secrets/redis-app-password", "/run/secrets/redis"))],
        expect=[
            Expect("kubernetes/backend.yaml", f"Deployment backend-{colour} container backend: REDIS_PASSWORD_FILE names "
                   "/run/secrets/redis-app-password, but no secret is mounted there")
            for colour in ("blue", "green")
        ],
    ),
    Fail(
        "a pod mounts the neo4j-auth volume as a folder (no subPath) where NEO4J_AUTH_FILE expects a file",
        edits=[Edit("kubernetes/neo4j.yaml", _NEO4J_KUBE_MOUNT, "              mountPath: /run/secrets/neo4j-auth\n")],
        expect=[Expect("kubernetes/neo4j.yaml", "StatefulSet neo4j container neo4j: NEO4J_AUTH_FILE names /run/secrets/neo4j-auth, "
                       "where the secret volume secret-neo4j-auth is mounted as a folder, not a file")],
    ),
    Pass("the shipped prod: every *_FILE names a mounted secret, in compose and in every pod"),
    Pass("a laptop's compose file, whose secrets are files", profile="dev"),
    Pass("a worker added in the profile that mounts neo4j-auth and reads it through NEO4J_AUTH_FILE", overlay=ADD_WORKER),
)


@check("VR610", "cross-secret-files", "a *_FILE variable names a secret file the container does not mount", Severity.ERROR,
       examples=EXAMPLES)
def secret_files(ctx: CheckContext) -> Iterable[Problem]:
    """In the compose file and in every Kubernetes pod, each environment variable whose
    name ends in ``_FILE`` and whose value lies under ``/run/secrets/`` names a file
    that this very container mounts from a secret: in compose, one of the service's
    ``secrets:`` (its ``target``, by default ``/run/secrets/<source>``); on Kubernetes,
    a ``volumeMount`` at that path with a ``subPath`` from a secret (or projected)
    volume, or a secret volume mounted at the file's folder.

    The loader refuses such a profile already; this check reads the rendered files
    alone, so a template or a hand edit that drops a mount is caught too. Without the
    mount the program finds no file at start, or reads an empty folder.

    Remediation: add the secret to ``services.<name>.secrets`` in the profile (or fix
    the template that lost the mount).
    """
    view = ctx.compose
    if view is not None:
        for name, service in view.services.items():
            targets = set(_compose_targets(service.get("secrets")))
            for key, value, path in _compose_env(service.get("environment")):
                if _secret_file(key, value) and value not in targets:
                    yield Problem(
                        f"service {name}: {key} names {value}, but the service mounts no secret there",
                        ctx.where(view.artefact, "services", name, "environment", *path),
                        hint=f"mount the secret at {value} (services.{name}.secrets in the profile)",
                        related=_in_profile(ctx, name, key),
                    )
    for found in ctx.containers:
        yield from _container(ctx, found)


def _secret_file(key: Any, value: Any) -> bool:
    return isinstance(key, str) and key.endswith("_FILE") and isinstance(value, str) and value.startswith(SECRETS_DIR + "/")


def _compose_env(environment: Any) -> Iterator[tuple[str, Any, tuple[str | int, ...]]]:
    """(name, value, path below ``environment``) in the mapping or the list form."""
    if isinstance(environment, dict):
        for key, value in environment.items():
            yield str(key), value, (key,)
    elif isinstance(environment, list):
        for index, item in enumerate(environment):
            if isinstance(item, str) and "=" in item:
                key, _, value = item.partition("=")
                yield key, value, (index,)


def _compose_targets(mounts: Any) -> Iterator[str]:
    """Where each of a compose service's secrets appears (short or long syntax)."""
    for mount in mounts if isinstance(mounts, list) else []:
        if isinstance(mount, str):
            yield f"{SECRETS_DIR}/{mount}"
        elif isinstance(mount, dict) and isinstance(mount.get("source"), str):
            target = mount.get("target") or mount["source"]
            yield target if str(target).startswith("/") else f"{SECRETS_DIR}/{target}"


def _secret_volumes(pod: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for volume in pod.get("volumes") or []:
        if not isinstance(volume, dict):
            continue
        sources = (volume.get("projected") or {}).get("sources") or []
        if "secret" in volume or any(isinstance(s, dict) and "secret" in s for s in sources):
            names.add(str(volume.get("name")))
    return names


def _container(ctx: CheckContext, found: Container) -> Iterator[Problem]:
    container = found.container
    secret_volumes = _secret_volumes(found.pod)
    mounts = [m for m in container.get("volumeMounts") or [] if isinstance(m, dict)]
    for index, variable in enumerate(container.get("env") or []):
        if not isinstance(variable, dict):
            continue
        key, value = variable.get("name"), variable.get("value")
        if not isinstance(key, str) or not isinstance(value, str) or not _secret_file(key, value):
            continue
        label = f"{found.obj.label} container {found.name}: {key} names {value}"
        at = found.obj.at(*found.path, "env", index, "value")
        file_mounts = [m for m in mounts if m.get("mountPath") == value]
        if any(m.get("name") in secret_volumes and m.get("subPath") for m in file_mounts):
            continue
        if any(m.get("name") in secret_volumes and not m.get("subPath") and m.get("mountPath") == posixpath.dirname(value) for m in mounts):
            continue  # a whole secret volume mounted at the folder: the file is one of its keys
        folder = next((m for m in file_mounts if m.get("name") in secret_volumes), None)
        if folder is not None:
            message = f"{label}, where the secret volume {folder.get('name')} is mounted as a folder, not a file"
            hint = "mount one key of the secret there with subPath"
        else:
            message = f"{label}, but no secret is mounted there"
            hint = f"mount the secret at {value} with a volumeMount from a secret volume"
        yield Problem(message, at, hint=hint, related=_in_profile(ctx, found.name, key))


def _in_profile(ctx: CheckContext, service: str, key: str) -> tuple[Location, ...]:
    spec = ctx.profile.services.get(service)
    if spec is None or key not in spec.env:
        return ()
    return (ctx.in_profile("services", service, "env", key),)
