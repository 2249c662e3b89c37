"""VR317: pods run under their own service account with no API token."""

from __future__ import annotations

from collections.abc import Iterable

from .base import Problem, Severity, check
from .context import CheckContext
from .examples import ADD_WORKER, Edit, Expect, Fail, Pass

BACKEND = "kubernetes/backend.yaml"
POD_ACCOUNT = "      serviceAccountName: backend\n      automountServiceAccountToken: false\n"

EXAMPLES = (
    Fail(
        "a pod with no serviceAccountName and no automountServiceAccountToken",
        profile="staging",
        edits=[Edit(BACKEND, POD_ACCOUNT, "")],
        expect=[
            Expect(BACKEND, "Deployment backend runs under the default service account"),
            Expect(BACKEND, "Deployment backend mounts a service account token"),
        ],
    ),
    Fail(
        "a pod that names a service account no manifest renders",
        profile="staging",
        edits=[Edit(BACKEND, "      serviceAccountName: backend\n", "      serviceAccountName: api\n")],
        expect=[Expect(BACKEND, "Deployment backend names service account 'api', which is not rendered")],
    ),
    Fail(
        "a pod that turns the token back on, over its ServiceAccount's false",
        profile="staging",
        edits=[Edit(BACKEND, POD_ACCOUNT, POD_ACCOUNT.replace("false", "true"))],
        expect=[Expect(BACKEND, "Deployment backend mounts a service account token")],
    ),
    Pass(
        "a pod that leaves automountServiceAccountToken unset: its own ServiceAccount turns tokens off",
        profile="staging",
        edits=[Edit(BACKEND, POD_ACCOUNT, "      serviceAccountName: backend\n")],
    ),
    Pass("a worker added in the profile runs under a ServiceAccount of its own", overlay=ADD_WORKER),
)


@check("VR317", "k8s-service-account", "pod uses the default service account or mounts an API token", Severity.ERROR, examples=EXAMPLES)
def service_account(ctx: CheckContext) -> Iterable[Problem]:
    """Each pod names a dedicated ``serviceAccountName`` (not ``default``) and sets
    ``automountServiceAccountToken: false``: none of the stack talks to the Kubernetes
    API, so a stolen token would be pure gain for an attacker.

    Remediation: the templates render one ServiceAccount per service (and one for the
    backup jobs) with tokens off.
    """
    accounts = {o.name: o.document.get("automountServiceAccountToken") for o in ctx.kube_objects if o.kind == "ServiceAccount"}
    for found in ctx.pods:
        obj, pod, prefix = found.obj, found.spec, found.path
        name = pod.get("serviceAccountName") or "default"
        if name == "default":
            yield Problem(f"{obj.label} runs under the default service account", obj.at(*prefix))
        elif name not in accounts:
            yield Problem(f"{obj.label} names service account {name!r}, which is not rendered", obj.at(*prefix, "serviceAccountName"))
        # The pod's own setting wins over its ServiceAccount's; unset, the account's applies.
        token = pod.get("automountServiceAccountToken")
        if token is True or (token is not False and accounts.get(name) is not False):
            yield Problem(f"{obj.label} mounts a service account token", obj.at(*prefix),
                          hint="automountServiceAccountToken: false")
