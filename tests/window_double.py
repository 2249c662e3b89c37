"""A double of the three programs the Neo4j maintenance-window script runs: ``kubectl``,
``date`` and ``sleep``, over a JSON file that stands for the namespace and its clock.

The window script is bash that only a real cluster could run. This double lets a test
run it for real (bash, its trap, its loops) and see what it asked for, in order. It
models just what the script relies on:

* a StatefulSet's ``spec.replicas``, read with ``get -o jsonpath`` and changed with
  ``scale`` (``--current-replicas`` is a precondition, as in kubectl);
* its pods, which linger for ``pod_lag`` clock seconds after a scale to 0;
* a Job created ``--from=cronjob/...``, which ends ``dump_outcome`` ("Complete",
  "Failed" or "never") ``dump_seconds`` after it was created;
* ``sleep`` advances the clock instead of waiting, and ``date +%s`` reads it.

Calls are appended to ``WINDOW_DOUBLE_LOG`` (one JSON argv per line).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from kubectl_double import option as _option  # run as a script: its own folder is on sys.path


def kubectl(argv: list[str], state: dict[str, Any]) -> int:
    words = [w for w in argv if not w.startswith("--request-timeout")]
    if words[:1] == ["--namespace"]:
        words = words[2:]
    now = state["clock"]
    verb, target = words[0], words[1] if len(words) > 1 else ""
    if verb == "get" and target.startswith("statefulset/"):
        print(state["replicas"], end="")
        return 0
    if verb == "scale" and target.startswith("statefulset/"):
        current = _option(words, "--current-replicas")
        if current is not None and int(current) != state["replicas"]:
            print(f"error: Expected replicas to be {current}, was {state['replicas']}", file=sys.stderr)
            return 1
        replicas = int(_option(words, "--replicas") or "0")
        if replicas == 0 and state["replicas"] > 0:
            state["pods_gone_at"] = now + state.get("pod_lag", 0)
        if replicas > 0:
            state.pop("pods_gone_at", None)
        state["replicas"] = replicas
        return 0
    if verb == "get" and target == "pods":
        selector = _option(words, "--selector") or ""
        if selector.startswith("job-name="):
            job = state.get("job")
            if job and job.get("running_until", 0) > now:
                print(f"pod/{job['name']}-x7k2p")
            return 0
        gone = state.get("pods_gone_at")
        if state["replicas"] > 0 or (gone is not None and now < gone):
            print("pod/neo4j-0")
        return 0
    if verb == "create" and target == "job":
        name = words[2]
        outcome = state.get("dump_outcome", "Complete")
        ends = now + state.get("dump_seconds", 60)
        state["job"] = {"name": name, "from": _option(words, "--from"), "outcome": outcome,
                        "ends": ends, "running_until": ends if outcome != "never" else 10**12}
        return 0
    if verb == "get" and target.startswith("job/"):
        job = state.get("job")
        if job is None or target != f"job/{job['name']}":
            if "--ignore-not-found" in words:
                return 0
            print(f'Error from server (NotFound): jobs.batch "{target[4:]}" not found', file=sys.stderr)
            return 1
        if "-o" in words and "name" in words:
            print(f"job.batch/{job['name']}")
            return 0
        done = job["outcome"] != "never" and now >= job["ends"]
        print(job["outcome"] if done else "", end="")
        return 0
    if verb == "delete" and target.startswith("job/"):
        job = state.get("job")
        if job is not None:
            job["deleted"] = True
            job["running_until"] = min(job["running_until"], now + 20)  # its pod terminates
            job["outcome"] = "deleted"
        return 0
    print(f"window double: unexpected kubectl {words}", file=sys.stderr)
    return 2


def main(program: str, argv: list[str]) -> int:
    state_file = Path(os.environ["WINDOW_DOUBLE_STATE"])
    state = json.loads(state_file.read_text())
    with open(os.environ["WINDOW_DOUBLE_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps([program, *argv]) + "\n")
    if program == "sleep":
        state["clock"] += int(float(argv[0]))
        code = 0
    elif program == "date":
        if argv and argv[-1] == "+%s":
            print(state["clock"])
        else:
            print("20260101021500")
        code = 0
    else:
        code = kubectl(argv, state)
    state_file.write_text(json.dumps(state))
    return code


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]).name, sys.argv[2:]))
