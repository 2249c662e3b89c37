"""The deploy pipeline over any executor: preflight, plan, apply, wait, verify, and roll
back on failure; every step reported as an :class:`Event` and appended to the audit log.

The runner decides; the executors (swarm, Kubernetes) only read and change the target.
A failed release is rolled back service by service and never by removing the stack.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..checks import Severity
from ..errors import RenderError
from ..profile.loader import LoadedProfile
from .audit import AuditLog
from .model import Change, DeployError, Event, Release, ServiceState, plan_changes

Emit = Callable[[Event], None]
ImageCheck = Callable[[str], bool]


class Executor(Protocol):
    """What the runner needs of a platform."""

    platform: str

    @property
    def target(self) -> str: ...

    def connect(self) -> None: ...
    def deploy_files(self, files: Mapping[str, str]) -> dict[str, str]: ...
    def desired(self, files: Mapping[str, str]) -> dict[str, ServiceState]: ...
    def current(self, desired: Mapping[str, ServiceState], last: Release | None) -> dict[str, ServiceState]: ...
    def switches(self, files: Mapping[str, str]) -> dict[str, str]: ...
    def missing_secrets(self, files: Mapping[str, str]) -> list[str]: ...
    def apply(self, files: Mapping[str, str]) -> None: ...
    def wait(self, changes: tuple[Change, ...], timeout: float, emit: Emit) -> dict[str, str]: ...
    def cutover(self, emit: Emit) -> dict[str, str]: ...
    def verify(self, files: Mapping[str, str], emit: Emit) -> dict[str, str]: ...
    def rollback(self, changes: tuple[Change, ...], failures: Mapping[str, str], timeout: float, emit: Emit) -> list[str]: ...
    def releases(self) -> list[Release]: ...
    def record(self, release: Release) -> None: ...


@dataclass(frozen=True)
class Outcome:
    """How a deploy ended: ``ok``, or the step that failed, what failed and what was rolled back."""

    ok: bool
    step: str
    message: str
    changes: tuple[Change, ...] = ()
    failures: dict[str, str] = field(default_factory=dict)
    rolled_back: tuple[str, ...] = ()
    revision: int | None = None


@dataclass
class Runner:
    executor: Executor
    audit: AuditLog
    emit: Emit
    image_exists: ImageCheck
    timeout: float = 600.0

    # -- entry points ---------------------------------------------------------------------

    def deploy(self, loaded: LoadedProfile, *, out: Path, dry_run: bool = False) -> Outcome:
        from .. import check, diff, render

        self.emit(Event("preflight", "start", f"{loaded.name} -> {self.executor.target}"))
        try:
            rendering = render(loaded, out=out)
        except RenderError as error:
            return self._refused(str(error))
        try:
            drift = diff(rendering, out)
        except RenderError as error:  # a manifest.json that is unreadable or a link
            return self._refused(str(error))
        if drift:
            listed = ", ".join(f"{d.path} ({d.status})" for d in drift[:5])
            return self._refused(f"{out / loaded.name} differs from a fresh render: {listed}; run render --profile {loaded.name} and commit it")
        self.emit(Event("preflight", "ok", f"{out / loaded.name} equals a fresh render"))
        report = check(rendering)
        errors = [f for f in report.findings if f.severity is Severity.ERROR]
        if errors:
            return self._refused(f"{len(errors)} error finding(s); first: {errors[0].line()}")
        self.emit(Event("preflight", "ok", "no error findings"))
        if report.skipped:
            # A deploy does not need every validator installed, but says what went unproven.
            skipped = ", ".join(f"{s.check_id} ({s.reason})" for s in report.skipped)
            self.emit(Event("preflight", "info", f"checks skipped on this machine: {skipped}"))
        files = {path: data.decode("utf-8") for path, data in rendering.files.items()}
        return self._release(loaded.name, loaded.digest, files, dry_run=dry_run)

    def rollback(self, profile: str, *, to: int | None = None, dry_run: bool = False) -> Outcome:
        self.emit(Event("preflight", "start", f"{profile}: roll back -> {self.executor.target}"))
        try:
            self.executor.connect()
            releases = self.executor.releases()
        except DeployError as error:
            return self._refused(str(error))
        good = [r for r in releases if r.result == "succeeded"]
        if to is not None:
            chosen = next((r for r in releases if r.revision == to), None)
            if chosen is None:
                known = ", ".join(str(r.revision) for r in releases) or "none"
                return self._refused(f"no release {to} recorded on {self.executor.target} (recorded: {known})")
            if chosen.result != "succeeded":
                return self._refused(f"release {to} {chosen.result}; roll back to a release that succeeded")
        elif len(good) < 2:
            return self._refused(f"no earlier successful release to roll back to on {self.executor.target}")
        else:
            chosen = good[-2]
        self.emit(Event("preflight", "ok", f"rolling back to release {chosen.revision} ({chosen.when}, by {chosen.who})"))
        return self._release(profile, chosen.profile_digest, chosen.files, dry_run=dry_run, rollback_of=chosen.revision)

    # -- the shared pipeline ----------------------------------------------------------------

    def _release(self, profile: str, profile_digest: str, rendered: Mapping[str, str], *, dry_run: bool, rollback_of: int | None = None) -> Outcome:
        executor = self.executor
        try:
            files = executor.deploy_files(rendered)
            desired = executor.desired(files)
            executor.connect()
            self.emit(Event("preflight", "ok", f"{executor.platform} target answers: {executor.target}"))
            problems = self._target_problems(files, desired)
            if problems:
                return self._refused("; ".join(problems))
            releases = executor.releases()
            last = next((r for r in reversed(releases) if r.result == "succeeded"), None)
            changes = plan_changes(desired, executor.current(desired, last))
            switches = executor.switches(files)
        except DeployError as error:
            return self._refused(str(error))
        self.audit.append("preflight", "ok", images=sorted({i for s in desired.values() for i in s.images}))
        for change in changes:
            self.emit(Event("plan", "info", change.describe(), change.service, change.as_json()))
        for service, switch in sorted(switches.items()):
            self.emit(Event("plan", "info", switch, service, {"action": "switch", "switch": switch}))
        moving = [c for c in changes if c.action != "unchanged"]
        self.audit.append("plan", "dry-run" if dry_run else "ok", changes={c.service: c.action for c in moving}, switches=switches)
        if dry_run:
            traffic = f" and {len(switches)} Services would switch colour" if switches else ""
            self.emit(Event("done", "ok", f"dry run: {len(moving)} of {len(changes)} workloads would change{traffic}; nothing applied"))
            return Outcome(True, "plan", "dry run", changes)
        revision = max((r.revision for r in releases), default=0) + 1
        images = {s.name: list(s.images) for s in desired.values()}
        try:
            self.emit(Event("apply", "start", f"release {revision}: {len(moving)} workloads change" + (f", {len(switches)} Services switch colour" if switches else "")))
            executor.apply(files)
            self.audit.append("apply", "ok", revision=revision)
            self.emit(Event("apply", "ok", "applied"))
            failures = executor.wait(changes, self.timeout, self.emit)
            step = "wait"
            if not failures:
                # Traffic moves only to what is ready (Kubernetes blue-green: the Service selectors).
                failures = executor.cutover(self.emit)
                step = "cutover"
            if not failures:
                failures = executor.verify(files, self.emit)
                step = "verify"
        except DeployError as error:
            failures, step = {"(apply)": str(error)}, "apply"
        self.audit.append(step, "failed" if failures else "ok", revision=revision, failures=failures)
        if not failures:
            self._record(Release(revision, profile, executor.platform, executor.target, images, profile_digest, self.audit.actor, self.audit.clock(), "succeeded", rollback_of=rollback_of, files=dict(files)))  # type: ignore[arg-type]
            self.emit(Event("done", "ok", f"release {revision} deployed and verified"))
            return Outcome(True, "done", f"release {revision} deployed", changes, revision=revision)
        self.emit(Event("rollback", "start", f"{step} failed: {'; '.join(f'{k}: {v}' for k, v in sorted(failures.items()))}"))
        try:
            rolled = tuple(executor.rollback(changes, failures, self.timeout, self.emit))
            rollback_result = "ok"
        except DeployError as error:
            rolled, rollback_result = (), f"failed: {error}"
        self.audit.append("rollback", rollback_result, revision=revision, services=list(rolled))
        detail = f"{step} failed: " + "; ".join(f"{k}: {v}" for k, v in sorted(failures.items()))
        self._record(Release(revision, profile, executor.platform, executor.target, images, profile_digest, self.audit.actor, self.audit.clock(), "rolled-back" if rollback_result == "ok" else "failed", detail=detail, rollback_of=rollback_of, files=dict(files)))  # type: ignore[arg-type]
        message = f"release {revision} {detail}; rolled back: {', '.join(rolled) or 'nothing'}"
        self.emit(Event("done", "failed", message))
        return Outcome(False, step, message, changes, failures, rolled, revision)

    def _target_problems(self, files: Mapping[str, str], desired: Mapping[str, ServiceState]) -> list[str]:
        problems = []
        missing = self.executor.missing_secrets(files)
        if missing:
            problems.append(f"secrets missing on the target: {', '.join(missing)}")
        else:
            self.emit(Event("preflight", "ok", "every secret the stack references exists"))
        for image in sorted({i for s in desired.values() for i in s.images}):
            if "@sha256:" not in image:
                problems.append(f"image {image} is not pinned by digest (render pin)")
                continue
            try:
                found = self.image_exists(image)
            except RenderError as error:
                problems.append(str(error))
                continue
            if not found:
                problems.append(f"image {image} does not exist in its registry")
        if not any(p.startswith("image ") for p in problems):
            self.emit(Event("preflight", "ok", "every image exists in its registry at its pinned digest"))
        return problems

    def _refused(self, message: str) -> Outcome:
        self.audit.append("preflight", "failed", detail=message)
        self.emit(Event("preflight", "failed", message))
        self.emit(Event("done", "failed", "nothing was changed"))
        return Outcome(False, "preflight", message)

    def _record(self, release: Release) -> None:
        try:
            self.executor.record(release)
        except DeployError as error:
            self.audit.append("record", "failed", revision=release.revision, detail=str(error))
            self.emit(Event("record", "failed", f"release {release.revision} not recorded: {error}"))
            return
        self.audit.append("record", release.result, revision=release.revision, images=release.images)
        self.emit(Event("record", "ok", f"release {release.revision} recorded ({release.result})"))
