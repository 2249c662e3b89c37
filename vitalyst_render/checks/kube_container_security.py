"""VR302–VR305: per-container security settings, one check each."""

from __future__ import annotations

from typing import Any, Callable, Iterable

from ._support import pod_containers
from .base import Problem, Severity, check


def _each_container(ctx, test: Callable[[dict, dict], str | None]) -> Iterable[Problem]:  # noqa: ANN001
    """Yield a Problem for every container where ``test(container_ctx, pod_ctx)`` says what is wrong."""
    for obj, pod, container, path in pod_containers(ctx):
        problem = test(container.get("securityContext") or {}, pod.get("securityContext") or {})
        if problem:
            yield Problem(f"{obj.label} container {container.get('name')!r} {problem}", obj.at(*path))


def _get(context: dict, *keys: str) -> Any:
    for key in keys:
        context = context.get(key) if isinstance(context, dict) else None
    return context


@check("VR302", "k8s-read-only-root", "container root filesystem is writable", Severity.ERROR)
def read_only_root(ctx) -> Iterable[Problem]:
    """Every container sets ``readOnlyRootFilesystem: true``; scratch paths are
    ``emptyDir`` volumes, and folders an image writes at start are seeded into
    ``emptyDir`` by an init container (``seeded_dirs``).

    Remediation: list writable paths in ``scratch_paths`` or ``seeded_dirs``.

    FAIL: no ``readOnlyRootFilesystem``, or ``false``.
    PASS: ``readOnlyRootFilesystem: true`` with an ``emptyDir`` at ``/tmp``.
    """
    yield from _each_container(ctx, lambda c, p: None if c.get("readOnlyRootFilesystem") is True else "has a writable root filesystem")


@check("VR303", "k8s-privilege-escalation", "container may escalate privileges", Severity.ERROR)
def privilege_escalation(ctx) -> Iterable[Problem]:
    """Every container sets ``allowPrivilegeEscalation: false`` (setuid binaries cannot
    gain privileges) and is not ``privileged``.

    Remediation: keep ``security.no_new_privileges: true``.

    FAIL: ``allowPrivilegeEscalation`` unset or true; ``privileged: true``.
    PASS: ``allowPrivilegeEscalation: false``, ``privileged: false``.
    """

    def test(container: dict, pod: dict) -> str | None:
        if container.get("privileged") is True:
            return "is privileged"
        if container.get("allowPrivilegeEscalation") is not False:
            return "allows privilege escalation"
        return None

    yield from _each_container(ctx, test)


@check("VR304", "k8s-capabilities", "container keeps Linux capabilities", Severity.ERROR)
def capabilities(ctx) -> Iterable[Problem]:
    """Every container drops ``ALL`` capabilities and adds none back.

    Remediation: keep ``security.drop_capabilities: [ALL]``.

    FAIL: ``capabilities: {drop: [NET_RAW]}`` or ``add: [NET_ADMIN]``.
    PASS: ``capabilities: {drop: [ALL]}``.
    """

    def test(container: dict, pod: dict) -> str | None:
        if "ALL" not in (_get(container, "capabilities", "drop") or []):
            return "does not drop ALL capabilities"
        if _get(container, "capabilities", "add"):
            return f"adds capabilities {_get(container, 'capabilities', 'add')}"
        return None

    yield from _each_container(ctx, test)


@check("VR305", "k8s-seccomp", "container runs without a seccomp profile", Severity.ERROR)
def seccomp(ctx) -> Iterable[Problem]:
    """Every container runs under ``seccompProfile: RuntimeDefault`` (or ``Localhost``),
    set on the container or the pod, as Pod Security ``restricted`` requires.

    Remediation: keep ``security.seccomp_profile: RuntimeDefault``.

    FAIL: no seccompProfile anywhere, or ``type: Unconfined``.
    PASS: ``seccompProfile: {type: RuntimeDefault}``.
    """

    def test(container: dict, pod: dict) -> str | None:
        kind = _get(container, "seccompProfile", "type") or _get(pod, "seccompProfile", "type")
        return None if kind in ("RuntimeDefault", "Localhost") else f"has seccomp profile {kind or 'unset'}"

    yield from _each_container(ctx, test)
