"""``render deploy``: ship a rendered profile to swarm or Kubernetes and prove it runs.

:func:`executor` builds the platform's executor for a profile; :class:`Runner` runs the
pipeline (preflight, plan, apply, wait, verify, roll back) over it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from ..errors import UsageError

if TYPE_CHECKING:
    from ..profile.loader import LoadedProfile
    from .audit import AuditLog
    from .kubernetes import Kubernetes
    from .model import PLATFORMS, Change, DeployError, Event, Platform, Release, ServiceState, plan_changes
    from .runner import Executor, Outcome, Runner
    from .swarm import Swarm
else:
    # The CLI reads deploy.model.PLATFORMS to build --platform: that must not load the rest.
    __getattr__, __dir__ = lazy_exports(__name__, {
        "PLATFORMS": ".model",
        "AuditLog": ".audit",
        "Change": ".model",
        "DeployError": ".model",
        "Event": ".model",
        "Executor": ".runner",
        "Kubernetes": ".kubernetes",
        "Outcome": ".runner",
        "Platform": ".model",
        "Release": ".model",
        "Runner": ".runner",
        "ServiceState": ".model",
        "Swarm": ".swarm",
        "plan_changes": ".model",
    })


def stack_name(loaded: LoadedProfile) -> str:
    """The swarm stack a profile deploys as: ``<project.name>-<profile>``."""
    from ..plan import stack_name as plan_stack_name

    return plan_stack_name(loaded.profile.project.name, loaded.name)


def executor(loaded: LoadedProfile, platform: Platform, env: Mapping[str, str] | None = None) -> Executor:
    """The platform's executor for ``loaded``; a profile that renders nothing for it is refused."""
    environment = loaded.profile.environment
    if platform == "swarm" and environment.compose_mode != "swarm":
        raise UsageError(f"profile {loaded.name!r} renders no swarm stack (environment.compose_mode is {environment.compose_mode!r})")
    if platform == "kubernetes" and environment.kubernetes is None:
        raise UsageError(f"profile {loaded.name!r} renders no Kubernetes manifests (environment.kubernetes is not set)")
    from .kubernetes import Kubernetes
    from .swarm import Swarm

    keep = loaded.profile.deployment.revision_history_limit
    if platform == "swarm":
        return Swarm(stack_name(loaded), env=env, keep=keep)
    return Kubernetes.for_profile(loaded, env=env, stack=stack_name(loaded))


__all__ = [
    "PLATFORMS",
    "AuditLog",
    "Change",
    "DeployError",
    "Event",
    "Executor",
    "Kubernetes",
    "Outcome",
    "Platform",
    "Release",
    "Runner",
    "ServiceState",
    "Swarm",
    "executor",
    "plan_changes",
    "stack_name",
]
