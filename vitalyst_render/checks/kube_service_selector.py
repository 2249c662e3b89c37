"""VR310: every Service selects pods that exist."""

from __future__ import annotations

from typing import Iterable

from ._support import kube_objects, pod_labels, pod_template
from .base import Problem, Severity, check


@check("VR310", "k8s-service-selector", "Service selector matches no pod", Severity.ERROR)
def service_selector(ctx) -> Iterable[Problem]:
    """An Ingress routes to a rendered Service and one of its ports; a workload's
    selector matches its own pod template; and a Service's selector
    matches the pod labels of at least one workload in the
    same namespace, and each ``targetPort`` named there is a port of those pods. A
    typo here leaves a Service with no endpoints and no error anywhere.

    Remediation: selectors and labels come from the same template macro; check
    hand-edited labels and the blue-green ``active_color``.

    FAIL: ``selector: {app.kubernetes.io/name: backnd}``.
    PASS: a selector equal to a subset of the Deployment's pod labels.
    """
    objects = list(kube_objects(ctx))
    workloads = [(o, pod_labels(o), pod_template(o)) for o in objects if pod_template(o) is not None]
    for obj, labels, _ in workloads:
        selector = ((obj.document.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        if obj.kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet") and not all(labels.get(k) == v for k, v in selector.items()):
            yield Problem(f"{obj.label} selects {selector}, which its own pod template does not carry; the API server rejects it",
                          obj.at("spec", "selector"))
    services = {(o.document.get("metadata") or {}).get("name"): o for o in objects if o.kind == "Service"}
    for obj in objects:
        if obj.kind != "Ingress":
            continue
        for r, rule in enumerate((obj.document.get("spec") or {}).get("rules") or []):
            for p, path in enumerate(((rule.get("http") or {}).get("paths")) or []):
                backend = ((path.get("backend") or {}).get("service")) or {}
                target = services.get(backend.get("name"))
                where = obj.at("spec", "rules", r, "http", "paths", p, "backend")
                if target is None:
                    yield Problem(f"Ingress {obj.name} sends traffic to Service {backend.get('name')!r}, which is not rendered", where)
                    continue
                port = backend.get("port") or {}
                ports = (target.document.get("spec") or {}).get("ports") or []
                if not any(port.get("name") == p_.get("name") or port.get("number") == p_.get("port") for p_ in ports):
                    yield Problem(f"Ingress {obj.name} targets port {port} of Service {target.name}, which has no such port", where)
    for obj in objects:
        if obj.kind != "Service":
            continue
        spec = obj.document.get("spec") or {}
        selector = spec.get("selector") or {}
        if not selector:
            continue  # selector-less Services are wired by hand (Endpoints) on purpose
        namespace = (obj.document.get("metadata") or {}).get("namespace")
        matches = [
            (w, template)
            for w, labels, template in workloads
            if (w.document.get("metadata") or {}).get("namespace") == namespace and all(labels.get(k) == v for k, v in selector.items())
        ]
        if not matches:
            yield Problem(f"Service {obj.name} selects {selector}, which no pod carries", obj.at("spec", "selector"))
            continue
        names = set()
        numbers = set()
        for _, (pod, _) in matches:
            for container in pod.get("containers") or []:
                for port in container.get("ports") or []:
                    names.add(port.get("name"))
                    numbers.add(port.get("containerPort"))
        for index, port in enumerate(spec.get("ports") or []):
            target = port.get("targetPort", port.get("port"))
            if target not in names and target not in numbers:
                yield Problem(f"Service {obj.name} targets port {target!r}, which its pods do not expose",
                              obj.at("spec", "ports", index))
