"""PASS and FAIL examples of a check, as data: a change and the exact findings it gives.

An example starts from a shipped profile, optionally overlays some YAML on it (a
profile that ``extends`` it, loaded through the real loader; ``prod`` is pinned by an
image lock of example digests, as a user's prod is after ``render pin``, and
``prod-as-shipped`` is the unpinned prod of this repository), renders it, optionally
edits rendered files (exact text replacements, for what only a broken template could
produce), and runs the one check. A FAIL example names every finding the check must
give, as ``file: message`` (paths relative to the profile's output folder); a PASS
example must give none. One meta-test runs them all, and ``docs/checks.md`` shows
them, so the documentation of a check cannot drift from what it does.
"""

from __future__ import annotations

import hashlib
import posixpath
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ..rendering import Rendering
    from .base import Check, Problem
    from .context import CheckContext

EXAMPLE_PROFILE = "example"
#: The prod profile exactly as shipped: its lock pins nothing and says why (VR608).
SHIPPED_PROD = "prod-as-shipped"
#: Examples on ``prod`` run it as a user has it after ``render pin``: every image pinned
#: by an image lock. These digests are example data, not any registry's.
EXAMPLE_DIGESTS = {
    "python:3.12-slim-bookworm": "sha256:" + "0a" * 32,
    "node:22-bookworm-slim": "sha256:" + "0b" * 32,
    "ghcr.io/vitalyst/backend:1.0.0": "sha256:" + "11" * 32,
    "ghcr.io/vitalyst/frontend:1.0.0": "sha256:" + "22" * 32,
    "neo4j:5.26.0-community": "sha256:" + "33" * 32,
    "bitnami/kubectl:1.31.4": "sha256:" + "66" * 32,
    "redis:7.0.15-bookworm": "sha256:" + "44" * 32,
    "oliver006/redis_exporter:v1.62.0-alpine": "sha256:" + "55" * 32,
}


@dataclass(frozen=True)
class Edit:
    """Replace ``old`` with ``new`` in the rendered file ``path`` (every occurrence)."""

    path: str
    old: str
    new: str


@dataclass(frozen=True)
class Expect:
    """One finding: the rendered file it points at (relative to the profile's output
    folder; a profile file's own path for findings in the profile) and its message."""

    file: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


@dataclass(frozen=True)
class Example:
    verdict: Literal["pass", "fail"]
    summary: str
    profile: str = "prod"
    overlay: str | None = None
    edits: tuple[Edit, ...] = ()
    expect: tuple[Expect, ...] = field(default=())


def Fail(  # noqa: N802 - reads as a constructor in check declarations
    summary: str,
    *,
    expect: Sequence[Expect],
    profile: str = "prod",
    overlay: str | None = None,
    edits: Sequence[Edit] = (),
) -> Example:
    """A change that must give exactly the ``expect`` findings."""
    return Example("fail", summary, profile, overlay, tuple(edits), tuple(expect))


def Pass(  # noqa: N802
    summary: str, *, profile: str = "prod", overlay: str | None = None, edits: Sequence[Edit] = ()
) -> Example:
    """A change (or none) that must give no finding."""
    return Example("pass", summary, profile, overlay, tuple(edits))


# -- running them ----------------------------------------------------------------------------

_FOLDER = Path(tempfile.gettempdir()) / "vitalyst-render-examples"


@cache
def example_rendering(profile: str, overlay: str | None) -> Rendering:
    import vitalyst_render as vr
    from ..profile.lock import LOCK_SUFFIX, lock_text

    pinned = profile == "prod"
    if profile == SHIPPED_PROD:
        profile = "prod"
    if not pinned and overlay is None:
        return vr.render(vr.load_profile(profile))
    text = f"extends: {profile}\n{overlay or ''}"
    lock = lock_text(EXAMPLE_DIGESTS) if pinned else None
    # Without an overlay the pinned prod keeps its name, so its files are out/prod/...
    name = EXAMPLE_PROFILE if overlay is not None else profile
    folder = _FOLDER / hashlib.sha256(f"{name}\0{text}\0{lock}".encode()).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / f"{name}.yaml", text)
    if lock is not None:
        _write(folder / f"{name}{LOCK_SUFFIX}", lock)
    return vr.render(vr.load_profile(folder / f"{name}.yaml"))


def _write(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


class ExampleError(AssertionError):
    """An example that cannot run as written (an edit whose text is not in the file)."""


def example_context(example: Example) -> CheckContext:
    """The context the example's check runs in."""
    from ..artefacts import Artefact, parse_artefact
    from .context import CheckContext

    rendering = example_rendering(example.profile, example.overlay)
    artefacts = dict(rendering.artefacts)
    for edit in example.edits:
        old = artefacts.get(edit.path)
        if old is None:
            raise ExampleError(f"example {example.summary!r}: no rendered file {edit.path}")
        if edit.old not in old.text:
            raise ExampleError(f"example {example.summary!r}: {edit.old!r} is not in {edit.path}")
        text = old.text.replace(edit.old, edit.new)
        artefacts[edit.path] = parse_artefact(Artefact(edit.path, text, old.template, old.syntax, old.parse_as))
    return CheckContext(rendering.loaded, rendering.plan, artefacts, rendering.folder)


def shown(context: CheckContext, problem: Problem) -> Expect:
    """A problem as an example states it: its file relative to the output folder."""
    file = problem.location.file
    prefix = context.out_prefix + "/"
    return Expect(file[len(prefix):] if file.startswith(prefix) else posixpath.basename(file), problem.message)


def run_example(check: Check, example: Example) -> list[Expect]:
    """The findings ``check`` gives on ``example``, as the example would state them."""
    context = example_context(example)
    return [shown(context, problem) for problem in check.function(context)]


def assert_example(check: Check, example: Example, run: Callable[[Check, Example], list[Expect]] = run_example) -> None:
    found = sorted(run(check, example), key=str)
    expected = sorted(example.expect, key=str)
    if found != expected:
        raise ExampleError(
            f"{check.id} {example.verdict.upper()} example {example.summary!r}:\n  expected "
            + ("\n           ".join(map(str, expected)) or "no finding")
            + "\n  got      "
            + ("\n           ".join(map(str, found)) or "no finding")
        )


# -- overlays several examples share ---------------------------------------------------------

#: A worker that runs the backend's image with another command and calls neo4j.
ADD_WORKER = """services:
  worker:
    kind: python-app
    build: {from: backend}
    command: [python, -m, src.ingest]
    replicas: 1
    resources:
      requests: {cpu: 250m, memory: 512Mi}
      limits: {cpu: "1", memory: 1Gi}
    health: {kind: command, command: [python, -c, "import os"], interval: 30s, timeout: 5s, retries: 3, start_period: 30s}
    env:
      NEO4J_AUTH_FILE: /run/secrets/neo4j-auth
    secrets: [neo4j-auth]
    depends_on: [neo4j]
    scratch_paths: [/tmp]
"""

#: An upstream nginx that serves /docs on environment.domain.
ADD_DOCS = """services:
  docs:
    kind: image
    image: {repository: nginxinc/nginx-unprivileged, tag: 1.27-alpine, digest: "sha256:6666666666666666666666666666666666666666666666666666666666666666"}
    probe_with: wget
    ports: [{name: http, port: 8080}]
    replicas: 1
    resources:
      requests: {cpu: 50m, memory: 64Mi}
      limits: {cpu: 200m, memory: 128Mi}
    health: {kind: http, port: 8080, path: /, interval: 15s, timeout: 3s, retries: 3, start_period: 15s}
    scratch_paths: [/tmp, /var/cache/nginx]
    image_user: {uid: 101, gid: 101}
    expose: {path: /docs}
"""

#: A second Redis: a cache without persistence (so no backup), with its own ACL secret,
#: users and exporter, that the backend calls.
ADD_CACHE = """secrets:
  cache-acl: {description: "ACL file of the cache Redis, with every password hash"}
  cache-health-password: {description: "Password of the cache's ACL user healthcheck"}
  cache-metrics-password: {description: "Password of the cache's ACL user metrics"}
services:
  backend:
    depends_on: [neo4j, redis, cache]
  cache:
    kind: redis
    image: {repository: redis, tag: 7.0.15-bookworm, digest: "sha256:4444444444444444444444444444444444444444444444444444444444444444"}
    ports: [{name: redis, port: 6379}]
    replicas: 1
    resources:
      requests: {cpu: 100m, memory: 512Mi}
      limits: {cpu: 500m, memory: 512Mi}
    health:
      kind: command
      command: [sh, -c, 'redis-cli --no-auth-warning --user healthcheck --askpass ping < /run/secrets/cache-health-password | grep -q PONG']
      interval: 10s
      timeout: 3s
      retries: 5
      start_period: 10s
    secrets: [cache-health-password]
    storage: {size: 2Gi, mount: /data}
    scratch_paths: [/tmp]
    image_user: {uid: 999, gid: 999}
    config: {maxmemory_ratio: 0.9, maxmemory_policy: allkeys-lfu}
    users:
      app: "~* &* +@all -@dangerous -@admin -flushall -flushdb -config -debug -keys -shutdown -monitor -acl -function|flush -function|delete -function|restore -script|flush"
      healthcheck: "+ping"
      metrics: "+ping +info +client|list +client|setname +client|info +config|get +slowlog +latency +memory|stats +dbsize +module|list +select"
    acl_secret: cache-acl
    exporter:
      image: {repository: oliver006/redis_exporter, tag: v1.62.0-alpine, digest: "sha256:5555555555555555555555555555555555555555555555555555555555555555"}
      secret: cache-metrics-password
"""

#: An example overlay the monitoring checks share: ADD_WORKER with a metrics endpoint
#: whose request metrics have names of their own (a second HTTP metric scheme).
ADD_WORKER_METRICS = ADD_WORKER + """    ports: [{name: metrics, port: 9100}]
    metrics:
      port: 9100
      catalogue: [ingest_documents_total]
      http: {requests: ingest_requests_total, duration: ingest_request_duration_seconds}
"""
