"""VR317: pods run under their own service account with no API token, but the one API
client the plan has (a backup window), whose token may do exactly what its plan says."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..plan import MaintenanceWindow
from .context import KubeObject

from .base import Problem, Severity, check
from .context import CheckContext
from .examples import ADD_WORKER, Edit, Expect, Fail, Pass

BACKEND = "kubernetes/backend.yaml"
BACKUPS = "kubernetes/backups.yaml"
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
    Fail(
        "the backup window's Role also reads Secrets, and may scale every StatefulSet",
        profile="staging",
        edits=[
            Edit(BACKUPS, "  - apiGroups: [\"\"]\n    resources: [pods]\n",
                 "  - apiGroups: [\"\"]\n    resources: [secrets]\n    verbs: [get]\n  - apiGroups: [\"\"]\n    resources: [pods]\n"),
            Edit(BACKUPS, "    resources: [statefulsets/scale]\n    resourceNames: [neo4j]\n", "    resources: [statefulsets/scale]\n"),
        ],
        expect=[Expect(BACKUPS, "Role neo4j-backup grants more than the neo4j-backup window needs: "
                                "get secrets, get statefulsets/scale (any), patch statefulsets/scale (any)")],
    ),
    Fail(
        "the backup window's ServiceAccount is also bound to a ClusterRole",
        profile="staging",
        edits=[Edit(BACKUPS, "  kind: Role\n  name: neo4j-backup\n", "  kind: ClusterRole\n  name: edit\n")],
        expect=[Expect(BACKUPS, "RoleBinding neo4j-backup binds ServiceAccount neo4j-backup to ClusterRole edit: "
                                "the window's token may only hold its own Role")],
    ),
    Pass("staging as shipped: the backup window's pod holds a token, bound to exactly the Role its plan gives it",
         profile="staging"),
)


def _grants(rules: Any) -> set[tuple[str, str, str, str]]:
    """Every (verb, resource, group, name) a Role's rules allow; "*" where no name limits them."""
    found = set()
    for rule in rules if isinstance(rules, list) else []:
        rule = rule if isinstance(rule, dict) else {}
        for group in rule.get("apiGroups") or []:
            for resource in rule.get("resources") or []:
                for verb in rule.get("verbs") or []:
                    for name in rule.get("resourceNames") or ["*"]:
                        found.add((str(verb), str(resource), str(group), str(name)))
    return found


def _planned(window: MaintenanceWindow) -> set[tuple[str, str, str, str]]:
    return {(verb, r.resource, r.api_group, name) for r in window.rules for verb in r.verbs for name in (r.names or ("*",))}


def _window_access(roles: dict[str, KubeObject], bindings: list[KubeObject], window: MaintenanceWindow) -> Iterable[Problem]:
    """The window's account is bound by RoleBindings only, to Roles that grant what the plan says."""
    for binding in bindings:
        subjects = binding.document.get("subjects") or []
        if not any(isinstance(s, dict) and s.get("kind") == "ServiceAccount" and s.get("name") == window.account for s in subjects):
            continue
        ref = binding.document.get("roleRef") or {}
        if binding.kind == "ClusterRoleBinding" or ref.get("kind") != "Role":
            yield Problem(f"{binding.kind} {binding.name} binds ServiceAccount {window.account} to {ref.get('kind')} {ref.get('name')}: "
                          "the window's token may only hold its own Role", binding.at("roleRef"))
            continue
        role = roles.get(str(ref.get("name")))
        if role is None:
            continue
        extra = _grants(role.document.get("rules")) - _planned(window)
        if extra:
            shown = ", ".join(f"{verb} {resource}" + (" (any)" if name == "*" and any(
                r.resource == resource and r.names for r in window.rules) else "")
                for verb, resource, _, name in sorted(extra, key=lambda g: (g[1], g[0])))
            yield Problem(f"Role {role.name} grants more than the {window.account} window needs: {shown}", role.at("rules"),
                          hint="the Role comes from the plan's MaintenanceWindow.rules; render it, do not edit it")


@check("VR317", "k8s-service-account", "pod uses the default service account or holds an API token it does not need",
       Severity.ERROR, examples=EXAMPLES)
def service_account(ctx: CheckContext) -> Iterable[Problem]:
    """Each pod names a dedicated ``serviceAccountName`` (not ``default``) and sets
    ``automountServiceAccountToken: false``: the stack's services never talk to the
    Kubernetes API, so a stolen token would be pure gain for an attacker. The one
    exception is the plan's: a Neo4j backup window's pod scales its StatefulSet and runs
    its dump, so its ServiceAccount gets a token, bound by RoleBindings only to Roles
    that grant nothing beyond the window's rules (this StatefulSet's scale, by name; its
    dump's CronJob; Jobs and pods to watch them).

    Remediation: the templates render one ServiceAccount per service (and one for the
    backup jobs) with tokens off, and the window's Role from its plan.
    """
    accounts = {o.name: o.document.get("automountServiceAccountToken") for o in ctx.kube_objects if o.kind == "ServiceAccount"}
    windows = {job.window.account: job.window for job in ctx.plan.backups if job.window is not None}
    for found in ctx.pods:
        obj, pod, prefix = found.obj, found.spec, found.path
        name = pod.get("serviceAccountName") or "default"
        if name == "default":
            yield Problem(f"{obj.label} runs under the default service account", obj.at(*prefix))
        elif name not in accounts:
            yield Problem(f"{obj.label} names service account {name!r}, which is not rendered", obj.at(*prefix, "serviceAccountName"))
        # The pod's own setting wins over its ServiceAccount's; unset, the account's applies.
        token = pod.get("automountServiceAccountToken")
        if (token is True or (token is not False and accounts.get(name) is not False)) and name not in windows:
            yield Problem(f"{obj.label} mounts a service account token", obj.at(*prefix),
                          hint="automountServiceAccountToken: false")
    roles = {o.name: o for o in ctx.objects_of_kind("Role")}
    bindings = [o for o in ctx.kube_objects if o.kind in ("RoleBinding", "ClusterRoleBinding")]
    for window in windows.values():
        yield from _window_access(roles, bindings, window)
