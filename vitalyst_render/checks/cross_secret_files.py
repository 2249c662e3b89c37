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
_NEO4J_ITEM = "                  name: neo4j-auth\n                  items:\n                    - key: value\n                      path: neo4j-auth\n"
_BACKEND_MOUNT = "            - name: secrets\n              mountPath: /run/secrets\n"

EXAMPLES = (
    Fail(
        "the compose file loses neo4j's secret mount but keeps NEO4J_AUTH_FILE",
        edits=[Edit(COMPOSE, _NEO4J_COMPOSE_MOUNT, "")],
        expect=[Expect(COMPOSE, "service neo4j: NEO4J_AUTH_FILE names /run/secrets/neo4j-auth, but the service mounts no secret there")],
    ),
    Fail(
        "a pod mounts the backend's secrets elsewhere (both colours of blue-green)",
        edits=[Edit("kubernetes/backend.yaml", _BACKEND_MOUNT, _BACKEND_MOUNT.replace("/run/secrets", "/var/run/app-secrets"))],
        expect=[
            Expect("kubernetes/backend.yaml", f"Deployment backend-{colour} container backend: {key} names "
                   f"/run/secrets/{secret}, but no secret is mounted there")
            for colour in ("blue", "green") for key, secret in (("NEO4J_AUTH_FILE", "neo4j-auth"), ("REDIS_PASSWORD_FILE", "redis-app-password"))
        ],
    ),
    Fail(
        "neo4j's projected secrets volume files the key under another name than NEO4J_AUTH_FILE reads",
        edits=[Edit("kubernetes/neo4j.yaml", _NEO4J_ITEM, _NEO4J_ITEM.replace("path: neo4j-auth", "path: auth"))],
        expect=[Expect("kubernetes/neo4j.yaml", "StatefulSet neo4j container neo4j: NEO4J_AUTH_FILE names /run/secrets/neo4j-auth, "
                       "but the secret volume secrets mounted at /run/secrets has no file neo4j-auth")],
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
    a secret (or projected) volume mounted at a folder above it whose items put a file
    at that path (a volume without items shows every key of its secret), or one key
    mounted there with ``subPath``.

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


def _secret_sources(volume: dict[str, Any]) -> list[dict[str, Any]]:
    """The secrets a volume shows: its own, or its projected volume's secret sources."""
    if isinstance(volume.get("secret"), dict):
        return [volume["secret"]]
    sources = (volume.get("projected") or {}).get("sources") or []
    return [s["secret"] for s in sources if isinstance(s, dict) and isinstance(s.get("secret"), dict)]


def _secret_files(sources: list[dict[str, Any]]) -> set[str] | None:
    """The files those secrets show, by path below the mount; None when a secret
    shows all its keys, which the manifest does not name."""
    files: set[str] = set()
    for secret in sources:
        items = secret.get("items")
        if not items:
            return None
        files |= {str(item.get("path")) for item in items if isinstance(item, dict)}
    return files


def _container(ctx: CheckContext, found: Container) -> Iterator[Problem]:
    container = found.container
    volumes = {str(v.get("name")): v for v in found.pod.get("volumes") or [] if isinstance(v, dict)}
    mounts = [m for m in container.get("volumeMounts") or [] if isinstance(m, dict) and str(m.get("name")) in volumes]
    for index, variable in enumerate(container.get("env") or []):
        if not isinstance(variable, dict):
            continue
        key, value = variable.get("name"), variable.get("value")
        if not isinstance(key, str) or not isinstance(value, str) or not _secret_file(key, value):
            continue
        problem = _unmounted(value, mounts, volumes)
        if problem is None:
            continue
        message, hint = problem
        yield Problem(f"{found.obj.label} container {found.name}: {key} names {value}, {message}",
                      found.obj.at(*found.path, "env", index, "value"), hint=hint, related=_in_profile(ctx, found.name, key))


def _unmounted(value: str, mounts: list[dict[str, Any]], volumes: dict[str, dict[str, Any]]) -> tuple[str, str] | None:
    """Why no secret file is at ``value`` in this container (message, hint), or None."""
    for mount in mounts:
        sources = _secret_sources(volumes[str(mount.get("name"))])
        if not sources:
            continue
        files = _secret_files(sources)
        path = str(mount.get("mountPath", ""))
        if mount.get("subPath"):
            if path == value:
                return None  # one key as a file (which VR315 refuses: rotation never reaches it)
            continue
        below = posixpath.relpath(value, path) if value.startswith(path.rstrip("/") + "/") else None
        if below is None:
            if path == value:
                return (f"where the secret volume {mount.get('name')} is mounted as a folder, not a file",
                        f"mount the volume at {posixpath.dirname(value)}, with the secret's key at path {posixpath.basename(value)}")
            continue
        if files is None or below in files:
            return None
        return (f"but the secret volume {mount.get('name')} mounted at {path} has no file {below}",
                f"add an item with path {below} to the volume's secret source")
    return "but no secret is mounted there", f"mount a secret volume at {posixpath.dirname(value)} holding {posixpath.basename(value)}"


def _in_profile(ctx: CheckContext, service: str, key: str) -> tuple[Location, ...]:
    spec = ctx.profile.services.get(service)
    if spec is None or key not in spec.env:
        return ()
    return (ctx.in_profile("services", service, "env", key),)
