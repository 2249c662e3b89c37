"""Deploy rendered Kubernetes manifests with kubectl: read what runs, apply server-side,
wait for rollouts, move blue-green traffic only to a ready colour, verify, roll back,
and keep the release history in the namespace.

Blue-green: a Service whose rendered selector picks another colour than the live one
is held back at apply (it keeps its live selector) and switched at cutover, after the
colour it will select has rolled out. A rollback switches it back, then undoes every
updated workload (``kubectl rollout undo``); nothing is ever deleted but old release
records.

Releases are ConfigMaps ``<stack>-release-NNNNN`` labelled ``io.vitalyst.release.*``;
each holds one release as JSON (the applied manifests, which reference secrets by name
only).

No cluster runs where this project is tested: the suite drives this executor against
a recording kubectl double (tests/kubectl_double.py), which checks the commands and
the order they come in, not a real API server's behaviour.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..kube import pod_spec, secret_references
from ..yamlsource import load_rendered_stream
from .model import Change, DeployError, Event, Release, ServiceState, digest_of, last_line, probe_outcome, run_cli

if TYPE_CHECKING:
    from ..profile.loader import LoadedProfile
    from .runner import Emit

FOLDER = "kubernetes/"
FIELD_MANAGER = "vitalyst-render"
RELEASE_LABEL = "io.vitalyst.release"
PROBE_ANNOTATION = "probe.vitalyst.io/"
COLOUR_LABEL = "vitalyst.io/color"
WORKLOADS = ("Deployment", "StatefulSet")


@dataclass(frozen=True)
class Manifest:
    """One object of the rendered manifests."""

    file: str
    data: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.data.get("kind", ""))

    @property
    def name(self) -> str:
        return str((self.data.get("metadata") or {}).get("name", ""))

    @property
    def ref(self) -> str:
        """``deployment/backend-blue``: how kubectl names it."""
        return f"{self.kind.lower()}/{self.name}"


def manifests(files: Mapping[str, str]) -> list[Manifest]:
    """Every object of the rendered kubernetes/*.yaml files, in file order."""
    found = []
    for path in sorted(p for p in files if p.startswith(FOLDER) and p.endswith(".yaml")):
        found += [Manifest(path, document) for document, _ in load_rendered_stream(files[path], path) if isinstance(document, dict)]
    return found


def workload_state(data: Mapping[str, Any], config: str) -> ServiceState:
    spec = data.get("spec") or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    replicas = spec.get("replicas")
    return ServiceState(
        str(data["metadata"]["name"]),
        tuple(str(c.get("image", "")) for c in containers),
        int(replicas) if replicas is not None else None,
        config,
        scaling="autoscaled",
    )


def desired_workloads(files: Mapping[str, str]) -> dict[str, ServiceState]:
    """Each Deployment and StatefulSet as the render wants it. Its config digest covers
    its definition but for images and replicas, which the plan shows on their own (the
    pod template carries each mounted config file's digest)."""
    return {m.name: workload_state(m.data, digest_of(_without_images_and_replicas(m.data))) for m in manifests(files) if m.kind in WORKLOADS}


def _without_images_and_replicas(data: Mapping[str, Any]) -> dict[str, Any]:
    spec = dict(data.get("spec") or {})
    spec.pop("replicas", None)
    template = dict(spec.get("template") or {})
    pod = dict(template.get("spec") or {})
    for key in ("containers", "initContainers"):
        if key in pod:
            pod[key] = [{**container, "image": None} for container in pod[key]]
    return {**data, "spec": {**spec, "template": {**template, "spec": pod}}}


def referenced_secrets(files: Mapping[str, str]) -> list[str]:
    """Every Secret the manifests name: what pods mount or read (as VR315 counts them),
    their pull secrets, and the Ingress TLS secret."""
    names: set[str] = set()
    for manifest in manifests(files):
        if manifest.kind == "Ingress":
            names |= {str(t["secretName"]) for t in (manifest.data.get("spec") or {}).get("tls") or [] if t.get("secretName")}
        found = pod_spec(manifest.data)
        if found is not None:
            names |= {str(name) for name, _ in secret_references(*found) if name}
            names |= {str(p["name"]) for p in found[0].get("imagePullSecrets") or [] if p.get("name")}
    return sorted(names)


def probes(manifest: Manifest) -> dict[str, list[str]]:
    """Container → the exec vector of its health check, from the pod annotations."""
    annotations = ((manifest.data.get("spec") or {}).get("template") or {}).get("metadata", {}).get("annotations") or {}
    found = {}
    for key, value in annotations.items():
        if str(key).startswith(PROBE_ANNOTATION):
            vector = json.loads(str(value))
            if isinstance(vector, list) and vector:
                found[str(key).removeprefix(PROBE_ANNOTATION)] = [str(word) for word in vector]
    return found


class Kubernetes:
    """A namespace reached by kubectl as configured (KUBECONFIG, the current context)."""

    platform = "kubernetes"

    def __init__(self, stack: str, namespace: str, project: str, *, kubectl: str = "kubectl", env: Mapping[str, str] | None = None, keep: int = 10):
        self.stack = stack
        self.namespace = namespace
        self.project = project
        self.kubectl_cli = kubectl
        self.env = dict(env) if env is not None else None
        self.keep = keep
        self._held: dict[str, dict[str, Any]] = {}  # Service → its rendered document, switched at cutover
        self._live_selectors: dict[str, dict[str, Any]] = {}  # Service → the selector it had before
        self._switched: list[str] = []
        self._kind_of: dict[str, str] = {}  # workload → deployment or statefulset, from the render
        self._templates_before: dict[str, Any] = {}  # workload → its live pod template when apply began

    @classmethod
    def for_profile(cls, loaded: LoadedProfile, *, env: Mapping[str, str] | None = None, stack: str) -> Kubernetes:
        kubernetes = loaded.profile.environment.kubernetes
        assert kubernetes is not None
        return cls(stack, kubernetes.namespace, loaded.profile.project.name, env=env, keep=loaded.profile.deployment.revision_history_limit)

    # -- the CLI ------------------------------------------------------------------------

    def kubectl(self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return run_cli(self.kubectl_cli, args, env=self.env, input=input, check=check, timeout=timeout)

    def _get(self, kinds: str, selector: str | None = None) -> list[dict[str, Any]]:
        args = ["get", kinds, "--namespace", self.namespace, "--output", "json"]
        if selector:
            args += ["--selector", selector]
        items = json.loads(self.kubectl(*args).stdout or "{}").get("items") or []
        return [item for item in items if isinstance(item, dict)]

    @property
    def target(self) -> str:
        env = self.env if self.env is not None else os.environ
        return f"kubernetes namespace {self.namespace} at {env.get('KUBECONFIG') or '~/.kube/config'}"

    def connect(self) -> None:
        if shutil.which(self.kubectl_cli, path=(self.env or os.environ).get("PATH")) is None:
            raise DeployError(f"the kubectl CLI {self.kubectl_cli!r} is not installed (or not on PATH)")
        result = self.kubectl("version", "--output", "json", check=False, timeout=30)
        server = (json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}).get("serverVersion")
        if result.returncode != 0 or not server:
            raise DeployError(f"cannot reach the Kubernetes API server: {last_line(result)}")

    # -- state --------------------------------------------------------------------------

    def deploy_files(self, files: Mapping[str, str]) -> dict[str, str]:
        return {path: text for path, text in files.items() if path.startswith(FOLDER)}

    def desired(self, files: Mapping[str, str]) -> dict[str, ServiceState]:
        self._kind_of = {m.name: m.kind.lower() for m in manifests(files) if m.kind in WORKLOADS}
        return desired_workloads(files)

    def missing_secrets(self, files: Mapping[str, str]) -> list[str]:
        present = {str(item["metadata"]["name"]) for item in self._get("secrets")}
        return [name for name in referenced_secrets(files) if name not in present]

    def _live_workloads(self) -> dict[str, dict[str, Any]]:
        return {str(item["metadata"]["name"]): item for item in self._get("deployments,statefulsets", f"app.kubernetes.io/part-of={self.project}")}

    def current(self, desired: Mapping[str, ServiceState], last: Release | None) -> dict[str, ServiceState]:
        """What runs now. The API server fills in defaults, so a live object never equals
        its manifest: the config digest comes from the last release when the workload
        still runs that release's images, and is unknown otherwise."""
        recorded = desired_workloads(last.files) if last is not None else {}
        states = {}
        for name, data in self._live_workloads().items():
            live = workload_state(data, "")
            known = recorded.get(name)
            states[name] = replace(live, config=known.config) if known is not None and known.images == live.images else live
        return states

    # -- apply, wait, cut over, verify, roll back ------------------------------------------

    def _colour_switches(self, files: Mapping[str, str]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
        """Service → (its rendered document, its live selector), for each Service whose
        rendered selector picks another colour than the one it selects now."""
        live = {str(s["metadata"]["name"]): s for s in self._get("services", f"app.kubernetes.io/part-of={self.project}")}
        found = {}
        for manifest in manifests(files):
            if manifest.kind == "Service" and manifest.name in live:
                before = dict((live[manifest.name].get("spec") or {}).get("selector") or {})
                after = dict((manifest.data.get("spec") or {}).get("selector") or {})
                if before.get(COLOUR_LABEL) and after.get(COLOUR_LABEL) and before != after:
                    found[manifest.name] = (manifest.data, before)
        return found

    def switches(self, files: Mapping[str, str]) -> dict[str, str]:
        return {
            name: f"traffic {before.get(COLOUR_LABEL)} -> {data['spec']['selector'].get(COLOUR_LABEL)}, once that colour is ready"
            for name, (data, before) in self._colour_switches(files).items()
        }

    def apply(self, files: Mapping[str, str]) -> None:
        """``kubectl apply --server-side`` of every object, Services that would switch
        colour keeping their live selector until :meth:`cutover`."""
        self._templates_before = {name: (data.get("spec") or {}).get("template") for name, data in self._live_workloads().items()}
        switching = self._colour_switches(files)
        self._held = {name: data for name, (data, _) in switching.items()}
        self._live_selectors = {name: before for name, (_, before) in switching.items()}
        self._switched = []
        documents = [
            _with_selector(m.data, self._live_selectors[m.name]) if m.kind == "Service" and m.name in self._held else m.data
            for m in manifests(files)
        ]
        self._apply_documents(documents)

    def _apply_documents(self, documents: list[dict[str, Any]]) -> None:
        with tempfile.TemporaryDirectory(prefix="vitalyst-deploy-") as folder:
            path = Path(folder, "manifests.json")
            path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": documents}), encoding="utf-8")
            self.kubectl("apply", "--server-side", f"--field-manager={FIELD_MANAGER}", "--namespace", self.namespace, "--filename", str(path), timeout=300)

    def wait(self, changes: tuple[Change, ...], timeout: float, emit: Emit) -> dict[str, str]:
        """``kubectl rollout status`` of every created or updated workload, within one deadline."""
        failures: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        for change in changes:
            if change.action not in ("create", "update"):
                continue
            left = max(1, int(deadline - time.monotonic()))
            emit(Event("wait", "progress", f"kubectl rollout status (up to {left}s)", change.service))
            ref = self._ref(change.service)
            result = self.kubectl("rollout", "status", ref, "--namespace", self.namespace, f"--timeout={left}s", check=False, timeout=left + 30)
            if result.returncode == 0:
                emit(Event("wait", "ok", "rolled out and ready", change.service))
            else:
                failures[change.service] = f"rollout status: {last_line(result)}"
                emit(Event("wait", "failed", failures[change.service], change.service))
        return failures

    def _ref(self, workload: str) -> str:
        return f"{self._kind_of.get(workload, 'deployment')}/{workload}"

    def cutover(self, emit: Emit) -> dict[str, str]:
        """Switch each held Service to the colour the render selects, now that it is ready."""
        failures = {}
        for name, data in sorted(self._held.items()):
            colour = ((data.get("spec") or {}).get("selector") or {}).get(COLOUR_LABEL)
            try:
                self._apply_documents([data])
            except DeployError as error:
                failures[name] = str(error)
                emit(Event("cutover", "failed", str(error), name))
                continue
            self._switched.append(name)
            emit(Event("cutover", "ok", f"Service selects {colour} now (was {self._live_selectors[name].get(COLOUR_LABEL)})", name))
        return failures

    def verify(self, files: Mapping[str, str], emit: Emit) -> dict[str, str]:
        """Each workload's health checks (the pod annotations), run by ``kubectl exec`` in one
        of its pods, inside the namespace's network policies."""
        failures: dict[str, str] = {}
        for manifest in manifests(files):
            if manifest.kind not in WORKLOADS:
                continue
            for container, argv in sorted(probes(manifest).items()):
                main = (manifest.data.get("metadata", {}).get("labels") or {}).get("app.kubernetes.io/name")
                who = manifest.name if container == main else f"{manifest.name}/{container}"
                result = self.kubectl("exec", "--namespace", self.namespace, manifest.ref, "--container", container, "--", *argv, check=False, timeout=60)
                probe_outcome(who, result, emit, failures)
        return failures

    def rollback(self, changes: tuple[Change, ...], failures: Mapping[str, str], timeout: float, emit: Emit) -> list[str]:
        """Switch traffic back first, then ``kubectl rollout undo`` every workload this
        release changed (one it never reached, when the apply failed first, keeps its
        spec: undoing it would return to the release before). A workload new in this
        release has nothing to return to and stays."""
        rolled = []
        for name in reversed(self._switched):
            self._apply_documents([_with_selector(self._held[name], self._live_selectors[name])])
            emit(Event("rollback", "ok", f"Service selects {self._live_selectors[name].get(COLOUR_LABEL)} again", name))
            rolled.append(name)
        self._switched = []
        deadline = time.monotonic() + timeout
        live = self._live_workloads()
        for change in changes:
            if change.action == "create":
                emit(Event("rollback", "skipped", "new in this release: left running, never deleted", change.service))
                continue
            if change.action != "update":
                continue
            template = (live.get(change.service, {}).get("spec") or {}).get("template")
            if template == self._templates_before.get(change.service):
                emit(Event("rollback", "skipped", "not changed by this release: nothing to undo", change.service))
                continue
            ref = self._ref(change.service)
            self.kubectl("rollout", "undo", ref, "--namespace", self.namespace)
            left = max(1, int(deadline - time.monotonic()))
            result = self.kubectl("rollout", "status", ref, "--namespace", self.namespace, f"--timeout={left}s", check=False, timeout=left + 30)
            emit(Event("rollback", "ok" if result.returncode == 0 else "failed", "kubectl rollout undo: " + ("ready" if result.returncode == 0 else last_line(result)), change.service))
            rolled.append(change.service)
        return rolled

    # -- history ----------------------------------------------------------------------------

    def _release_name(self, revision: int) -> str:
        return f"{self.stack}-release-{revision:05d}"

    def releases(self) -> list[Release]:
        found = [Release.decode(str((item.get("data") or {}).get("release", "{}"))) for item in self._get("configmaps", f"{RELEASE_LABEL}.stack={self.stack}")]
        return sorted(found, key=lambda r: r.revision)

    def record(self, release: Release) -> None:
        labels = {f"{RELEASE_LABEL}.{key}": value for key, value in
                  {"stack": self.stack, "profile": release.profile, "revision": str(release.revision), "result": release.result}.items()}
        labels["app.kubernetes.io/managed-by"] = FIELD_MANAGER
        document = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": self._release_name(release.revision), "namespace": self.namespace, "labels": labels},
                    "data": {"release": release.encode()}}
        self.kubectl("create", "--namespace", self.namespace, "--filename", "-", input=json.dumps(document))
        kept = self.releases()
        for old in kept[: max(0, len(kept) - self.keep)]:
            self.kubectl("delete", "configmap", self._release_name(old.revision), "--namespace", self.namespace, check=False)


def _with_selector(service: dict[str, Any], selector: Mapping[str, Any]) -> dict[str, Any]:
    spec = dict(service.get("spec") or {})
    spec["selector"] = dict(selector)
    return {**service, "spec": spec}
