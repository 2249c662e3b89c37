"""VR317: pods run under their own service account with no API token."""

from __future__ import annotations

from typing import Iterable

from ._support import kube_objects, pods
from .base import Problem, Severity, check


@check("VR317", "k8s-service-account", "pod uses the default service account or mounts an API token", Severity.ERROR)
def service_account(ctx) -> Iterable[Problem]:
    """Each pod names a dedicated ``serviceAccountName`` (not ``default``) and sets
    ``automountServiceAccountToken: false``: none of the stack talks to the Kubernetes
    API, so a stolen token would be pure gain for an attacker.

    Remediation: the templates render one ServiceAccount per app with tokens off.

    FAIL: no ``serviceAccountName``, or ``automountServiceAccountToken`` unset.
    PASS: ``serviceAccountName: backend`` and ``automountServiceAccountToken: false``.
    """
    accounts = {o.name: o.document.get("automountServiceAccountToken") for o in kube_objects(ctx) if o.kind == "ServiceAccount"}
    for obj, pod, prefix in pods(ctx):
        name = pod.get("serviceAccountName") or "default"
        if name == "default":
            yield Problem(f"{obj.label} runs under the default service account", obj.at(*prefix))
        elif name not in accounts:
            yield Problem(f"{obj.label} names service account {name!r}, which is not rendered", obj.at(*prefix, "serviceAccountName"))
        if pod.get("automountServiceAccountToken") is not False and accounts.get(name) is not False:
            yield Problem(f"{obj.label} mounts a service account token", obj.at(*prefix),
                          hint="automountServiceAccountToken: false")
