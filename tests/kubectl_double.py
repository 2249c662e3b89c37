"""A recording kubectl double: the few kubectl calls ``render deploy`` makes, over a
JSON file that stands for a namespace.

No Kubernetes API server can run where this project is tested. This double records
every call (argv and stdin) to KUBECTL_DOUBLE_LOG and keeps objects in
KUBECTL_DOUBLE_STATE, so tests can assert what was asked, in which order, and what
the namespace would hold. It models only what the executor relies on:

* ``apply --server-side`` of a List stores objects; a workload whose pod template
  changes keeps the old template for ``rollout undo``;
* ``rollout status`` fails when a container of the workload runs an image listed in
  the state's ``broken_images`` (a release whose pods never turn ready);
* ``exec`` fails for an image in ``failing_probes`` (ready, but its health check fails);
* ``apply`` fails as a whole when the state says ``fail_apply`` (an admission webhook);
* ``get`` lists objects by kind and equality selectors; secrets come from ``secrets``.

It is not a fake API server: no defaults, no admission, no real rollouts.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

KINDS = {"deployments": "Deployment", "statefulsets": "StatefulSet", "services": "Service", "configmaps": "ConfigMap", "secrets": "Secret"}


def main(argv: list[str]) -> int:
    stdin = sys.stdin.read() if "-" in argv else None
    named = option(argv, "--filename")
    file = Path(named).read_text() if named and named != "-" and Path(named).is_file() else None
    with open(os.environ["KUBECTL_DOUBLE_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps({"argv": argv, "stdin": stdin, "file": file}) + "\n")
    state_file = Path(os.environ["KUBECTL_DOUBLE_STATE"])
    state = json.loads(state_file.read_text())
    if not state.get("reachable", True):
        print("The connection to the server localhost:8080 was refused - did you specify the right host or port?", file=sys.stderr)
        return 1
    code = run(argv, state, stdin)
    state_file.write_text(json.dumps(state, indent=1))
    return code


def option(argv: list[str], name: str) -> str | None:
    for index, word in enumerate(argv):
        if word == name and index + 1 < len(argv):
            return argv[index + 1]
        if word.startswith(name + "="):
            return word.split("=", 1)[1]
    return None


def run(argv: list[str], state: dict[str, Any], stdin: str | None) -> int:
    objects: dict[str, Any] = state.setdefault("objects", {})
    history: dict[str, list[Any]] = state.setdefault("history", {})
    verb = argv[0]
    if verb == "version":
        print(json.dumps({"clientVersion": {"gitVersion": "v1.32.0"}, "serverVersion": {"gitVersion": "v1.31.4-double"}}))
        return 0
    if verb == "get":
        selector = option(argv, "--selector")
        items = []
        for plural in argv[1].split(","):
            kind = KINDS[plural]
            if kind == "Secret":
                items += [{"kind": "Secret", "metadata": {"name": name}} for name in state.get("secrets", [])]
                continue
            items += [obj for key, obj in sorted(objects.items()) if key.startswith(kind + "/") and matches(obj, selector)]
        print(json.dumps({"kind": "List", "items": items}))
        return 0
    if verb == "apply":
        assert "--server-side" in argv and option(argv, "--field-manager") == "vitalyst-render", argv
        if state.get("fail_apply"):
            print('Error from server (Forbidden): admission webhook "policy.example" denied the request', file=sys.stderr)
            return 1
        document = json.loads(Path(option(argv, "--filename") or "").read_text())
        for obj in document["items"]:
            key = f"{obj['kind']}/{obj['metadata']['name']}"
            old = objects.get(key)
            if old is not None and obj["kind"] in ("Deployment", "StatefulSet") and old["spec"]["template"] != obj["spec"]["template"]:
                history.setdefault(key, []).append(old["spec"]["template"])
            objects[key] = obj
        print(f"{len(document['items'])} objects serverside-applied")
        return 0
    if verb == "create":
        obj = json.loads(stdin or "{}")
        key = f"{obj['kind']}/{obj['metadata']['name']}"
        if key in objects:
            print(f'Error from server (AlreadyExists): {obj["kind"].lower()}s "{obj["metadata"]["name"]}" already exists', file=sys.stderr)
            return 1
        objects[key] = obj
        return 0
    if verb == "delete":
        objects.pop(f"{KINDS[argv[1] + 's']}/{argv[2]}", None)
        return 0
    if verb == "rollout":
        action, ref = argv[1], argv[2]
        key = workload_key(ref)
        obj = objects.get(key)
        if obj is None:
            print(f'Error from server (NotFound): {ref} not found', file=sys.stderr)
            return 1
        if action == "status":
            if set(images(obj)) & set(state.get("broken_images", [])):
                print(f'error: {ref.replace("/", " ", 1)!s} exceeded its progress deadline', file=sys.stderr)
                return 1
            print(f'{ref} successfully rolled out')
            return 0
        if action == "undo":
            if not history.get(key):
                print(f"error: no rollout history found for {ref}", file=sys.stderr)
                return 1
            obj["spec"]["template"] = history[key].pop()
            print(f"{ref} rolled back")
            return 0
    if verb == "exec":
        ref = argv[3]
        obj = objects.get(workload_key(ref))
        if obj is None or set(images(obj)) & set(state.get("broken_images", [])):
            print(f"error: unable to upgrade connection: container not found", file=sys.stderr)
            return 1
        return 1 if set(images(obj)) & set(state.get("failing_probes", [])) else 0
    print(f"kubectl double: unsupported call {argv}", file=sys.stderr)
    return 2


def workload_key(ref: str) -> str:
    kind, name = ref.split("/", 1)
    return f"{KINDS[kind + 's']}/{name}"


def images(obj: dict[str, Any]) -> list[str]:
    return [c["image"] for c in obj["spec"]["template"]["spec"]["containers"]]


def matches(obj: dict[str, Any], selector: str | None) -> bool:
    labels = obj.get("metadata", {}).get("labels") or {}
    for term in (selector or "").split(","):
        if term:
            key, value = term.split("=", 1)
            if labels.get(key) != value:
                return False
    return True


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
