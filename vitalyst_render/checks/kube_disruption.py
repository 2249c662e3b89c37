"""VR311: replicated apps have a PodDisruptionBudget and an autoscaler."""

from __future__ import annotations

from collections.abc import Iterable

from .base import Problem, Severity, check
from ..plan import grouped
from .context import CheckContext, app_label, pod_labels
from .examples import ADD_WORKER, Edit, Expect, Fail, Pass

BACKEND = "kubernetes/backend.yaml"

EXAMPLES = (
    Fail(
        "a profile that drops a service's autoscaling but keeps two replicas",
        profile="staging",
        overlay="services:\n  frontend:\n    autoscaling: null\n",
        expect=[Expect("kubernetes/frontend.yaml", "Deployment frontend has 2 replicas and no HorizontalPodAutoscaler")],
    ),
    Fail(
        "an autoscaler aimed at another Deployment, and a PodDisruptionBudget that selects other pods",
        profile="staging",
        edits=[
            Edit(BACKEND, "    kind: Deployment\n    name: backend\n", "    kind: Deployment\n    name: backend-api\n"),
            Edit(BACKEND, "  maxUnavailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: backend\n",
                 "  maxUnavailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: backend-api\n"),
        ],
        expect=[
            Expect(BACKEND, "Deployment backend has no PodDisruptionBudget"),
            Expect(BACKEND, "Deployment backend leaves its replica count to a HorizontalPodAutoscaler that does not exist"),
        ],
    ),
    Pass("a single-replica worker added in the profile: a PodDisruptionBudget and no autoscaler", overlay=ADD_WORKER),
)


@check("VR311", "k8s-pdb-hpa", "replicated workload lacks a PodDisruptionBudget or HorizontalPodAutoscaler", Severity.ERROR,
       examples=EXAMPLES)
def pdb_and_hpa(ctx: CheckContext) -> Iterable[Problem]:
    """Every Deployment or StatefulSet has a PodDisruptionBudget selecting its pods, so
    node drains keep it available. Every Deployment with more than one replica is the
    target of a HorizontalPodAutoscaler (``autoscaling/v2``), and a Deployment that
    omits ``replicas`` (so that an apply does not reset the autoscaler's count) has one.

    Remediation: set ``services.<name>.autoscaling`` for every service with more than
    one replica; the templates add PDBs for all.
    """
    objects = ctx.kube_objects
    # By the app label each selector requires (None: it requires none): a workload is
    # held only against the budgets that may select it.
    budgets = [(o.spec.get("selector") or {}).get("matchLabels") or {} for o in ctx.objects_of_kind("PodDisruptionBudget")]
    pdb_selectors = grouped((app_label(selector), selector) for selector in budgets)
    hpa_targets = {(o.spec.get("scaleTargetRef") or {}).get("name") for o in ctx.objects_of_kind("HorizontalPodAutoscaler")}
    for obj in objects:
        if obj.kind not in ("Deployment", "StatefulSet"):
            continue
        labels = pod_labels(obj)
        app = app_label(labels)
        candidates = [*(pdb_selectors.get(app, ()) if app is not None else ()), *pdb_selectors.get(None, ())]
        if not any(selector and all(labels.get(k) == v for k, v in selector.items()) for selector in candidates):
            yield Problem(f"{obj.label} has no PodDisruptionBudget", obj.at("metadata"))
        spec = obj.spec
        if obj.kind != "Deployment" or obj.name in hpa_targets:
            continue
        if "replicas" not in spec:
            yield Problem(f"{obj.label} leaves its replica count to a HorizontalPodAutoscaler that does not exist", obj.at("spec"))
        elif isinstance(spec["replicas"], int) and spec["replicas"] > 1:
            yield Problem(f"{obj.label} has {spec['replicas']} replicas and no HorizontalPodAutoscaler", obj.at("spec", "replicas"))
