"""VR310: every Service selects pods that exist."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .base import Problem, Severity, check
from .context import CheckContext, KubeObject, pod_labels, selected_app
from .examples import ADD_DOCS, Edit, Expect, Fail, Pass

BACKEND = "kubernetes/backend.yaml"
INGRESS = "kubernetes/ingress.yaml"
SERVICE_SELECTOR = "  selector:\n    app.kubernetes.io/name: backend\n"
DEPLOYMENT_SELECTOR = "      app.kubernetes.io/name: backend\n      app.kubernetes.io/part-of: vitalyst\n  template:\n"

EXAMPLES = (
    Fail(
        "a Service whose selector misspells the app",
        profile="staging",
        edits=[Edit(BACKEND, SERVICE_SELECTOR, SERVICE_SELECTOR.replace("backend", "backnd"))],
        expect=[Expect(BACKEND, "Service backend selects {'app.kubernetes.io/name': 'backnd', 'app.kubernetes.io/part-of': 'vitalyst'}, "
                                "which no pod carries")],
    ),
    Fail(
        "a Service that targets a port name its pods do not declare",
        profile="staging",
        edits=[Edit(BACKEND, "targetPort: http", "targetPort: web")],
        expect=[Expect(BACKEND, "Service backend targets port 'web', which its pods do not expose")],
    ),
    Fail(
        "a blue-green Service that selects a colour no Deployment runs",
        edits=[Edit(BACKEND, "    vitalyst.io/color: blue\n  ports:", "    vitalyst.io/color: purple\n  ports:")],
        expect=[Expect(BACKEND, "Service backend selects {'app.kubernetes.io/name': 'backend', 'app.kubernetes.io/part-of': 'vitalyst', "
                                "'vitalyst.io/color': 'purple'}, which no pod carries")],
    ),
    Fail(
        "a Deployment whose selector asks for a label its own pod template lacks",
        profile="staging",
        edits=[Edit(BACKEND, DEPLOYMENT_SELECTOR, DEPLOYMENT_SELECTOR.replace("  template:\n", "      tier: api\n  template:\n"))],
        expect=[Expect(BACKEND, "Deployment backend selects {'app.kubernetes.io/name': 'backend', 'app.kubernetes.io/part-of': 'vitalyst', "
                                "'tier': 'api'}, which its own pod template does not carry; the API server rejects it")],
    ),
    Fail(
        "an Ingress that routes to a Service that is not rendered",
        edits=[Edit(INGRESS, "name: frontend", "name: web")],
        expect=[Expect(INGRESS, "Ingress vitalyst sends traffic to Service 'web', which is not rendered")],
    ),
    Fail(
        "an Ingress that routes to port 80 of a Service that listens on 3000",
        edits=[Edit(INGRESS, "                  name: http\n", "                  number: 80\n")],
        expect=[Expect(INGRESS, "Ingress vitalyst targets port {'number': 80} of Service frontend, which has no such port")],
    ),
    Pass("prod flipped to active_color green: the Service follows to the green pods",
         overlay="deployment:\n  active_color: green\n"),
    Pass("an nginx added in the profile and exposed on /docs: the Ingress reaches its Service and port", overlay=ADD_DOCS),
)


def _matches(selector: dict[str, Any], labels: dict[str, Any]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


@check("VR310", "k8s-service-selector", "Service selector matches no pod", Severity.ERROR, examples=EXAMPLES)
def service_selector(ctx: CheckContext) -> Iterable[Problem]:
    """An Ingress routes to a rendered Service and one of its ports; a workload's
    selector matches its own pod template; and a Service's selector
    matches the pod labels of at least one workload in the
    same namespace, and each ``targetPort`` named there is a port of those pods. A
    typo here leaves a Service with no endpoints and no error anywhere.

    Remediation: selectors and labels come from the same template macro; check
    hand-edited labels and the blue-green ``active_color``.
    """
    objects = ctx.kube_objects
    workloads = [(pod.obj, pod_labels(pod.obj), pod.spec) for pod in ctx.pods]
    for obj, labels, _ in workloads:
        selector = (obj.spec.get("selector") or {}).get("matchLabels") or {}
        if obj.kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet") and not _matches(selector, labels):
            yield Problem(f"{obj.label} selects {selector}, which its own pod template does not carry; the API server rejects it",
                          obj.at("spec", "selector"))
    services: dict[Any, KubeObject] = {o.metadata.get("name"): o for o in objects if o.kind == "Service"}
    for obj in objects:
        if obj.kind != "Ingress":
            continue
        for r, rule in enumerate(obj.spec.get("rules") or []):
            for p, path in enumerate(((rule.get("http") or {}).get("paths")) or []):
                backend = ((path.get("backend") or {}).get("service")) or {}
                target = services.get(backend.get("name"))
                where = ("spec", "rules", r, "http", "paths", p, "backend")
                if target is None:
                    yield Problem(f"Ingress {obj.name} sends traffic to Service {backend.get('name')!r}, which is not rendered",
                                  obj.at(*where))
                    continue
                port = backend.get("port") or {}
                ports = target.spec.get("ports") or []
                if not any(port.get("name") == p_.get("name") or port.get("number") == p_.get("port") for p_ in ports):
                    yield Problem(f"Ingress {obj.name} targets port {port} of Service {target.name}, which has no such port",
                                  obj.at(*where))
    for obj in objects:
        if obj.kind != "Service":
            continue
        spec = obj.spec
        selector = spec.get("selector") or {}
        if not selector:
            continue  # selector-less Services are wired by hand (Endpoints) on purpose
        namespace = obj.metadata.get("namespace")
        # Only the workloads labelled with the app the selector requires can match it.
        app = selected_app(obj)
        candidates = [(pod.obj, pod_labels(pod.obj), pod.spec) for pod in ctx.pods_of(app)] if app is not None else workloads
        matches = [pod for w, labels, pod in candidates if w.metadata.get("namespace") == namespace and _matches(selector, labels)]
        if not matches:
            yield Problem(f"Service {obj.name} selects {selector}, which no pod carries", obj.at("spec", "selector"))
            continue
        names = set()
        numbers = set()
        for pod in matches:
            for container in pod.get("containers") or []:
                for port in container.get("ports") or []:
                    names.add(port.get("name"))
                    numbers.add(port.get("containerPort"))
        for index, port in enumerate(spec.get("ports") or []):
            target_port = port.get("targetPort", port.get("port"))
            if target_port not in names and target_port not in numbers:
                yield Problem(f"Service {obj.name} targets port {target_port!r}, which its pods do not expose",
                              obj.at("spec", "ports", index))
