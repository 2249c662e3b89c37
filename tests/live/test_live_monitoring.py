"""The swarm rules see the containers a real engine runs (issue 12, item 1).

cAdvisor is not available here, but what it exports about a container is known: its
series carry ``name`` and every Docker label as ``container_label_<label>`` (characters
outside ``[a-zA-Z0-9_]`` become ``_``). Built from the labels and names the live swarm
really gave the stack's containers, those series must make the rendered swarm rules
fire for exactly the stack's containers, under the names the alerts promise.
"""

from __future__ import annotations

import io
import json
import re
import subprocess

from ruamel.yaml import YAML

from ..conftest import require_tool
from .conftest import STACK


def cadvisor_labels(container: dict) -> dict[str, str]:
    labels = {"name": container["Name"].lstrip("/"), "id": f"/docker/{container['Id']}", "job": "cadvisor-swarm",
              "instance": "tasks.cadvisor:8080", "image": container["Config"]["Image"]}
    for key, value in (container["Config"]["Labels"] or {}).items():
        labels["container_label_" + re.sub(r"[^a-zA-Z0-9_]", "_", key)] = value
    return labels


def series(metric: str, labels: dict[str, str]) -> str:
    return metric + "{" + ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(labels.items())) + "}"


def test_swarm_cpu_alert_fires_for_the_real_containers_of_the_stack(live, tmp_path):
    promtool = require_tool("promtool")
    listed = live.testbed.docker("ps", "--quiet", "--no-trunc", "--filter", f"label=com.docker.stack.namespace={STACK}").stdout.split()
    containers = json.loads(live.testbed.docker("inspect", *listed).stdout)
    backend = next(c for c in containers if c["Config"]["Labels"].get("com.docker.swarm.service.name") == f"{STACK}_backend")
    labels = cadvisor_labels(backend)
    # A container of another stack on the same node: the same labels, another namespace.
    stranger = {**labels, "name": "other_backend.1.x", "container_label_com_docker_stack_namespace": "other",
                "container_label_com_docker_swarm_service_name": "other_backend"}
    input_series = []
    for each in (labels, stranger):
        input_series += [
            {"series": series("container_cpu_usage_seconds_total", each), "values": "0+60x30"},  # one core
            {"series": series("container_spec_cpu_quota", each), "values": "50000x30"},  # a limit of half a core
            {"series": series("container_spec_cpu_period", each), "values": "100000x30"},
        ]
    fired = {"alertname": "ContainerHighCPU", "alertstate": "firing", "severity": "warning", "name": labels["name"],
             "container_label_com_docker_swarm_service_name": f"{STACK}_backend"}
    case = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": input_series,
            "promql_expr_test": [{"expr": 'ALERTS{alertname="ContainerHighCPU", alertstate="firing"}', "eval_time": "20m",
                                  "exp_samples": [{"labels": series("ALERTS", fired), "value": 1}]}],
        }],
    }
    (tmp_path / "rules.yml").write_text((live.work / "out" / "live" / "prometheus" / "swarm" / "rules.yml").read_text())
    stream = io.StringIO()
    YAML(typ="safe", pure=True).dump(case, stream)
    (tmp_path / "case.yml").write_text(stream.getvalue())
    done = subprocess.run([promtool, "test", "rules", "case.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
