"""Everything a plugin needs, in one stable place.

A plugin is an installed distribution that declares entry points in any of three groups
(see ``docs/extending.md``):

* ``vitalyst_render.checks``: a module whose import registers checks with :func:`check`
  (IDs with a prefix of the plugin's own, e.g. ``ACME001``);
* ``vitalyst_render.roles``: a :class:`Role` subclass (or instance) for a new service
  ``kind``, with its pydantic model (a subclass of :class:`ServiceSpec`,
  :class:`AppService` or :class:`UpstreamService` whose ``kind`` is a ``Literal``);
* ``vitalyst_render.targets``: a :class:`Target` that renders more files from the
  :class:`StackPlan`, with a folder of its own templates.

Import from here, not from the modules behind it: those may move between releases.
"""

from __future__ import annotations

from .artefacts import Artefact
from .checks.base import Check, Problem, Severity, ToolUnavailable, check
from .checks.context import CheckContext, ComposeView, Container, KubeObject, Pod
from .checks.examples import ADD_DOCS, ADD_WORKER, Edit, Expect, Fail, Pass
from .errors import Location
from .monitoring import Alert, AlertContext, Panel, Scenario
from .plan import (
    BackupJob,
    ConfigMount,
    Edge,
    MemoryBudget,
    MemorySource,
    Probe,
    RoleFile,
    ScrapeTarget,
    SecretMount,
    ServicePlan,
    Sidecar,
    StackPlan,
)
from .profile.models import AppService, Model, Profile, ServiceSpec, UpstreamService
from .roles.base import Role
from .targets.base import Job, Target

__all__ = [
    "ADD_DOCS",
    "ADD_WORKER",
    "Alert",
    "AlertContext",
    "AppService",
    "Artefact",
    "BackupJob",
    "Check",
    "CheckContext",
    "ComposeView",
    "ConfigMount",
    "Container",
    "Edge",
    "Edit",
    "Expect",
    "Fail",
    "Job",
    "KubeObject",
    "Location",
    "MemoryBudget",
    "MemorySource",
    "Model",
    "Panel",
    "Pass",
    "Pod",
    "Probe",
    "Problem",
    "Profile",
    "Role",
    "RoleFile",
    "Scenario",
    "ScrapeTarget",
    "SecretMount",
    "ServicePlan",
    "ServiceSpec",
    "Severity",
    "Sidecar",
    "StackPlan",
    "Target",
    "ToolUnavailable",
    "UpstreamService",
    "check",
]
