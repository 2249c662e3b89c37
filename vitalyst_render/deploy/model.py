"""What a deploy compares, decides and records: pure data and the plan builder.

Nothing here talks to a target. The swarm and Kubernetes executors read what runs into
:class:`ServiceState` values; :func:`plan_changes` compares them with the rendered
desired state, and a :class:`Release` is what the target keeps of every attempt.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ..errors import RenderError

Platform = Literal["swarm", "kubernetes"]
PLATFORMS: tuple[Platform, ...] = ("swarm", "kubernetes")


class DeployError(RenderError):
    """The deploy could not start or went wrong in a way the user must act on."""


def run_cli(program: str, args: Sequence[str], *, env: Mapping[str, str] | None, input: str | None = None,
            check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run a platform CLI (docker, kubectl); each way it can fail is one DeployError line
    naming the program and its first two arguments."""
    what = f"{os.path.basename(program)} {' '.join(args[:2])}"
    try:
        result = subprocess.run(  # noqa: S603
            [program, *args], input=input, capture_output=True, text=True, timeout=timeout, env=dict(env) if env is not None else None
        )
    except FileNotFoundError:
        raise DeployError(f"the {os.path.basename(program)} CLI {program!r} is not installed (or not on PATH)") from None
    except subprocess.TimeoutExpired:
        raise DeployError(f"{what} did not answer within {timeout:.0f}s") from None
    if check and result.returncode != 0:
        raise DeployError(f"{what} failed: {last_line(result)}")
    return result


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    """What a failed command said last (its error, for most CLIs), or its exit code."""
    lines = (result.stderr or result.stdout or "").strip().splitlines()
    return lines[-1] if lines else f"exit {result.returncode}"


def probe_outcome(who: str, result: subprocess.CompletedProcess[str], emit: Callable[[Event], None], failures: dict[str, str]) -> None:
    """Report one health check run on the target: an ok event, or a failure to roll back for."""
    if result.returncode == 0:
        emit(Event("verify", "ok", "health check passes", who))
    else:
        failures[who] = f"health check exited {result.returncode}: {last_line(result)}"
        emit(Event("verify", "failed", failures[who], who))


def digest_of(data: Any) -> str:
    """sha256 of ``data`` as canonical JSON, shortened: a service's config digest."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ServiceState:
    """One workload as a plan sees it: enough to say what a deploy changes."""

    name: str
    images: tuple[str, ...]
    replicas: int | None  # None: see ``scaling``
    config: str  # digest of the workload's definition; "" when unknown
    scaling: str = "global"  # what sets the count when replicas is None: "global" (swarm), "autoscaled"


@dataclass(frozen=True)
class Change:
    """One workload's difference between what runs and what the render wants."""

    service: str
    action: Literal["create", "update", "unchanged", "remove"]
    before: ServiceState | None
    after: ServiceState | None

    @property
    def fields(self) -> tuple[str, ...]:
        """Which of image, replicas and config differ (all of them for create/remove)."""
        if self.before is None or self.after is None:
            return ("image", "replicas", "config")
        changed = []
        if self.before.images != self.after.images:
            changed.append("image")
        if self.before.replicas != self.after.replicas:
            changed.append("replicas")
        if self.before.config and self.before.config != self.after.config:
            changed.append("config")
        return tuple(changed)

    def describe(self) -> str:
        """What happens to the workload, without its name (events carry that)."""
        if self.action == "create":
            assert self.after is not None
            return f"create ({', '.join(self.after.images)}, replicas {_count(self.after)})"
        if self.action == "remove":
            return "remove (no longer in the stack)"
        if self.action == "unchanged":
            return "unchanged"
        assert self.before is not None and self.after is not None
        parts = []
        if "image" in self.fields:
            parts.append(f"image {', '.join(self.before.images)} -> {', '.join(self.after.images)}")
        if "replicas" in self.fields:
            parts.append(f"replicas {_count(self.before)} -> {_count(self.after)}")
        if "config" in self.fields:
            parts.append(f"config {self.before.config} -> {self.after.config}")
        if not self.before.config:
            parts.append("config digest of the running service unknown (no release recorded)")
        return f"update ({'; '.join(parts)})"

    def as_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "action": self.action,
            "fields": list(self.fields) if self.action == "update" else [],
            "before": asdict(self.before) if self.before else None,
            "after": asdict(self.after) if self.after else None,
        }


def _count(state: ServiceState) -> str:
    return state.scaling if state.replicas is None else str(state.replicas)


def plan_changes(desired: Mapping[str, ServiceState], current: Mapping[str, ServiceState]) -> tuple[Change, ...]:
    """Per workload, what a deploy of ``desired`` does to ``current``, sorted by name.

    A running workload whose config digest is unknown (deployed without a release
    record) counts as changed: nothing proves that it matches the render.
    """
    changes = []
    for name in sorted(set(desired) | set(current)):
        after, before = desired.get(name), current.get(name)
        if before is None:
            changes.append(Change(name, "create", None, after))
        elif after is None:
            changes.append(Change(name, "remove", before, None))
        elif (before.images, before.replicas, before.config) == (after.images, after.replicas, after.config):
            changes.append(Change(name, "unchanged", before, after))
        else:
            changes.append(Change(name, "update", before, after))
    return tuple(changes)


@dataclass(frozen=True)
class Release:
    """One deploy attempt as the target keeps it: enough to audit it and to restore it.

    ``files`` holds the rendered files that were applied (out/<profile>/ relative
    paths), which never hold a secret value; a rollback applies them again.
    """

    revision: int
    profile: str
    platform: Platform
    target: str
    images: dict[str, list[str]]
    profile_digest: str
    who: str
    when: str
    result: Literal["succeeded", "rolled-back", "failed"]
    detail: str = ""
    rollback_of: int | None = None
    files: dict[str, str] = field(default_factory=dict)

    def encode(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str) -> Release:
        data = json.loads(text)
        return cls(**data)

    def summary(self) -> dict[str, Any]:
        """Everything but the files: what history shows."""
        data = asdict(self)
        data.pop("files")
        return data


@dataclass(frozen=True)
class Event:
    """One step of a deploy as it happens; the CLI prints it, machines read it as JSON."""

    step: Literal["preflight", "plan", "apply", "wait", "cutover", "verify", "rollback", "record", "done"]
    status: Literal["start", "ok", "progress", "failed", "skipped", "info"]
    message: str
    service: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"step": self.step, "status": self.status, "service": self.service, "message": self.message, **({"data": self.data} if self.data else {})}
