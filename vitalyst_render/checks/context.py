"""What every check sees: one render's plan and artefacts, with views parsed once.

The views (Kubernetes objects, pods and containers, the compose services, the
Dockerfiles, every PromQL expression with its parse tree) are computed on first use
and shared by all checks. Checks run side by side in threads over the same context;
the views are pure functions of the artefacts, so computing one twice in a race is
harmless.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..artefacts import Artefact
from ..dockerfile import Dockerfile
from ..errors import Location
from ..kube import DocPath, containers_of, pod_spec
from ..monitoring import MonitoringPlan
from ..plan import StackPlan, grouped
from ..profile.loader import LoadedProfile
from ..profile.models import Profile
from ..yamlsource import Positions
from ._promql import Expression, parse
from ._tools import ToolRun, run_tool
from .verdicts import VerdictCache

if TYPE_CHECKING:
    from ..rendering import Rendering

COMPOSE = "compose/docker-compose.yml"


@dataclass(frozen=True)
class KubeObject:
    """One document of a Kubernetes manifest stream."""

    artefact: Artefact
    document: dict[str, Any]
    positions: Positions
    out_prefix: str

    @property
    def kind(self) -> str:
        return str(self.document.get("kind", ""))

    @property
    def name(self) -> str:
        return str((self.document.get("metadata") or {}).get("name", "?"))

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"

    @property
    def spec(self) -> dict[str, Any]:
        spec = self.document.get("spec")
        return spec if isinstance(spec, dict) else {}

    @property
    def metadata(self) -> dict[str, Any]:
        metadata = self.document.get("metadata")
        return metadata if isinstance(metadata, dict) else {}

    @property
    def app(self) -> str | None:
        """The ``app.kubernetes.io/name`` its selector or pod template names."""
        selected = ((self.spec.get("selector") or {}).get("matchLabels") or {}).get("app.kubernetes.io/name")
        return selected if isinstance(selected, str) else pod_labels(self).get("app.kubernetes.io/name")

    def at(self, *path: str | int) -> Location:
        loc = self.positions.value(tuple(path))
        return Location(posixpath.join(self.out_prefix, self.artefact.path), loc.line, loc.col)


@dataclass(frozen=True)
class Pod:
    """A pod template (or pod) inside a workload object, with the path to its spec."""

    obj: KubeObject
    spec: dict[str, Any]
    path: DocPath


@dataclass(frozen=True)
class Container:
    """One container of a pod, init containers included, with the path to it."""

    obj: KubeObject
    pod: dict[str, Any]
    container: dict[str, Any]
    path: DocPath

    @property
    def name(self) -> str:
        return str(self.container.get("name"))


@dataclass(frozen=True)
class ComposeView:
    """The parsed compose file."""

    artefact: Artefact
    data: dict[str, Any]

    @cached_property
    def services(self) -> dict[str, dict[str, Any]]:
        """The services that are mappings, by name (made once: checks look services up one by one)."""
        services = self.data.get("services") or {}
        return {name: s for name, s in services.items() if isinstance(s, dict)} if isinstance(services, dict) else {}

    @property
    def networks(self) -> dict[str, Any]:
        networks = self.data.get("networks") or {}
        return networks if isinstance(networks, dict) else {}


@dataclass(frozen=True)
class MonitoringFiles:
    """One platform's monitoring: its plan and the files rendered from it (None when
    the file is missing or does not parse)."""

    plan: MonitoringPlan
    rules: Artefact | None
    tests: Artefact | None
    config: Artefact | None
    dashboard: Artefact | None


def pod_template(obj: KubeObject) -> tuple[dict[str, Any], DocPath] | None:
    """(pod spec, its path) of a workload object; None for other kinds."""
    return pod_spec(obj.document)


def pod_labels(obj: KubeObject) -> dict[str, Any]:
    spec = obj.spec
    if obj.kind == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    return labels if isinstance(labels, dict) else {}


@dataclass(frozen=True)
class CheckContext:
    """The plan and every artefact of one render. ``out_prefix`` is the profile's
    output folder as findings show it (``out/prod``)."""

    loaded: LoadedProfile
    plan: StackPlan
    artefacts: dict[str, Artefact]
    out_prefix: str
    verdicts: VerdictCache | None = None  # where external tools' verdicts are cached, if anywhere

    @classmethod
    def of(cls, rendering: Rendering, verdicts: VerdictCache | None = None) -> CheckContext:
        from ..boundary import rendering as checked

        rendering = checked(rendering, "CheckContext.of(): rendering")
        return cls(rendering.loaded, rendering.plan, dict(rendering.artefacts), rendering.folder, verdicts)

    def run_tool(self, program: str, arguments: list[str], files: dict[str, str], **options: Any) -> ToolRun:
        """:func:`._tools.run_tool` with this run's verdict cache."""
        return run_tool(program, arguments, files, verdicts=self.verdicts, **options)

    @property
    def profile(self) -> Profile:
        return self.loaded.profile

    # -- locations -------------------------------------------------------------------

    def location(self, path: str, line: int = 0, col: int = 0) -> Location:
        """A location in a rendered file, as users see it (``out/prod/...``)."""
        return Location(posixpath.join(self.out_prefix, path), line, col)

    def where(self, artefact: Artefact, *path: str | int) -> Location:
        """The rendered location of ``path`` inside a parsed YAML artefact."""
        loc = artefact.positions.value(tuple(path))
        return self.location(artefact.path, loc.line, loc.col)

    def in_profile(self, *path: str | int) -> Location:
        """Where ``path`` is set in the profile's YAML (the file that set it, through extends)."""
        return self.loaded.positions.value(tuple(path))

    # -- artefacts -------------------------------------------------------------------

    def of_syntax(self, *kinds: str) -> list[Artefact]:
        return [a for a in self.artefacts.values() if a.syntax in kinds]

    def parsed(self, parse_as: str) -> list[Artefact]:
        """Artefacts of one parse kind that parsed (unparsed ones are VR001's business)."""
        return [a for a in self.artefacts.values() if a.parse_as == parse_as and a.parsed]

    def artefact(self, path: str) -> Artefact | None:
        found = self.artefacts.get(path)
        return found if found is not None and found.parse_error is None else None

    # -- views, parsed once --------------------------------------------------------------

    @cached_property
    def compose(self) -> ComposeView | None:
        artefact = self.artefact(COMPOSE)
        if artefact is None or not isinstance(artefact.data, dict):
            return None
        return ComposeView(artefact, artefact.data)

    @cached_property
    def dockerfiles(self) -> tuple[tuple[Artefact, Dockerfile], ...]:
        return tuple((a, a.data) for a in self.parsed("dockerfile"))

    @cached_property
    def kube_objects(self) -> tuple[KubeObject, ...]:
        found = []
        for artefact in self.parsed("yaml-stream"):
            if artefact.path.startswith("kubernetes/"):
                for document, positions in artefact.documents:
                    if isinstance(document, dict):
                        found.append(KubeObject(artefact, document, positions, self.out_prefix))
        return tuple(found)

    @cached_property
    def pods(self) -> tuple[Pod, ...]:
        """Every object that runs pods, with its pod spec."""
        found = []
        for obj in self.kube_objects:
            template = pod_template(obj)
            if template is not None:
                found.append(Pod(obj, template[0], template[1]))
        return tuple(found)

    @cached_property
    def containers(self) -> tuple[Container, ...]:
        """Every container of every pod, init containers included."""
        return tuple(
            Container(pod.obj, pod.spec, container, path)
            for pod in self.pods
            for container, path in containers_of(pod.spec, pod.path)
        )

    @cached_property
    def monitoring(self) -> tuple[MonitoringFiles, ...]:
        """Each platform's monitoring plan with its rendered files, the primary first."""
        return tuple(
            MonitoringFiles(m, self.artefact(m.rules_path), self.artefact(m.tests_path), self.artefact(m.config_path),
                            self.artefact(m.dashboard))
            for m in self.plan.monitorings
        )

    @cached_property
    def promql(self) -> tuple[Expression, ...]:
        """Every expression of every platform's rules and dashboard, parsed once."""
        found: list[Expression] = []
        for files in self.monitoring:
            rules = files.rules
            if rules is not None and isinstance(rules.data, dict):
                for g, group in enumerate(rules.data.get("groups") or []):
                    for r, rule in enumerate((group or {}).get("rules") or []):
                        if isinstance(rule, dict) and isinstance(rule.get("expr"), str):
                            loc = rules.positions.value(("groups", g, "rules", r, "expr"))
                            source = "alert" if "alert" in rule else "record"
                            found.append(Expression(rule["expr"], self.location(rules.path, loc.line, loc.col), source, rule,
                                                    parse(rule["expr"]), files.plan))
            dashboard = files.dashboard
            if dashboard is not None:
                lines = dashboard.text.split("\n")
                for text in _panel_exprs(dashboard.data):
                    needle = '"expr": ' + json.dumps(text, ensure_ascii=False)
                    line = next((i + 1 for i, line_text in enumerate(lines) if needle in line_text), 0)
                    found.append(Expression(text, self.location(dashboard.path, line), "panel", None, parse(text), files.plan))
        return tuple(found)

    # -- indexes: checks that look at each service ask these once per service -------------

    def objects_of_kind(self, kind: str) -> tuple[KubeObject, ...]:
        """The Kubernetes objects of one kind, in document order."""
        return self._objects_by_kind.get(kind, ())

    @cached_property
    def _objects_by_kind(self) -> dict[str, tuple[KubeObject, ...]]:
        return grouped((o.kind, o) for o in self.kube_objects)

    def service_objects(self, service: str) -> tuple[KubeObject, ...]:
        """The Deployments or StatefulSets that run ``service`` (both colours in blue-green)."""
        return self._workloads_by_app.get(service, ())

    @cached_property
    def _workloads_by_app(self) -> dict[str | None, tuple[KubeObject, ...]]:
        return grouped((app_label(pod_labels(o)), o) for o in self.kube_objects if o.kind in ("Deployment", "StatefulSet"))

    def pods_of(self, app: str) -> tuple[Pod, ...]:
        """The pods (of any workload) labelled ``app``."""
        return self._pods_by_app.get(app, ())

    @cached_property
    def _pods_by_app(self) -> dict[str | None, tuple[Pod, ...]]:
        return grouped((app_label(pod_labels(pod.obj)), pod) for pod in self.pods)

    def selecting(self, app: str) -> tuple[KubeObject, ...]:
        """The Services and NetworkPolicies whose selector requires the label ``app``."""
        return tuple(o for _, o in self._by_selected_app.get(app, ()))

    def may_select(self, app: str) -> tuple[KubeObject, ...]:
        """The Services and NetworkPolicies that may select pods labelled ``app``: those
        that require it, and those whose selector says nothing about the app label."""
        found = [*self._by_selected_app.get(app, ()), *self._by_selected_app.get(None, ())]
        return tuple(o for _, o in sorted(found, key=lambda item: item[0]))

    @cached_property
    def _by_selected_app(self) -> dict[str | None, tuple[tuple[int, KubeObject], ...]]:
        """Selector-bearing objects by the app label their selector requires (None: none),
        each with its place among the objects, to merge groups in document order."""
        return grouped((selected_app(o), (index, o)) for index, o in enumerate(self.kube_objects)
                        if o.kind in ("Service", "NetworkPolicy"))


#: The label every workload, Service and NetworkPolicy of the stack selects its pods by.
APP = "app.kubernetes.io/name"


def selected_app(obj: KubeObject) -> str | None:
    """The app label a Service's or NetworkPolicy's selector requires; None when it requires none."""
    selector = obj.spec.get("selector") if obj.kind == "Service" else (obj.spec.get("podSelector") or {}).get("matchLabels")
    return app_label(selector)


def app_label(labels: Any) -> str | None:
    """The app label of a label map or selector, as an index key: None when it has none,
    or one that is not a string (which matches no app name)."""
    value = labels.get(APP) if isinstance(labels, dict) else None
    return value if isinstance(value, str) else None




def _panel_exprs(dashboard: Any) -> Iterator[str]:
    for panel in (dashboard or {}).get("panels") or []:
        for target in (panel or {}).get("targets") or []:
            if isinstance((target or {}).get("expr"), str):
                yield target["expr"]
        yield from _panel_exprs(panel)  # rows nest panels
