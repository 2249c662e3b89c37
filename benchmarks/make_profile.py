"""Write a profile that extends prod with N more services, for scale benchmarks.

    python benchmarks/make_profile.py --services 200 --out /tmp/wide.yaml
    render --profile-file /tmp/wide.yaml --out /tmp/out

The services cycle through the kinds a real stack grows: workers on the backend's image,
Node renderers on the frontend's, upstream images, Redis caches with their exporters and
ACL secrets, and now and then another Neo4j. Each calls the databases it needs (the
shipped ones or an earlier cache), exposes metrics where its kind does, and declares
its secrets, so the profile renders and checks clean and every plan path (edges,
networks, scrape jobs, alerts, panels, backups) grows with N.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vitalyst_render.checks.examples import EXAMPLE_DIGESTS
from vitalyst_render.profile.lock import LOCK_SUFFIX, lock_text

DIGEST = "sha256:" + "6" * 64
KINDS = ("worker", "renderer", "proxy", "cache", "worker", "renderer", "proxy", "cache", "worker", "graph")


def _worker(name: str, calls: list[str]) -> list[str]:
    return [
        f"  {name}:",
        "    kind: python-app",
        "    build: {from: backend}",
        f"    command: [python, -m, src.jobs.{name.replace('-', '_')}]",
        "    replicas: 1",
        "    resources: {requests: {cpu: 100m, memory: 256Mi}, limits: {cpu: 500m, memory: 512Mi}}",
        "    ports: [{name: metrics, port: 9100}]",
        "    health: {kind: http, port: 9100, path: /healthz, interval: 15s, timeout: 5s, retries: 3, start_period: 20s}",
        "    metrics: {port: 9100}",
        "    env: {NEO4J_AUTH_FILE: /run/secrets/neo4j-auth, JOB: " + name + "}",
        "    secrets: [neo4j-auth]",
        f"    depends_on: [{', '.join(calls)}]",
        "    scratch_paths: [/tmp]",
    ]


def _renderer(name: str, calls: list[str]) -> list[str]:
    return [
        f"  {name}:",
        "    kind: node-app",
        "    build: {from: frontend}",
        "    args: [node, dist/render.js]",
        "    replicas: 2",
        "    autoscaling: {min_replicas: 2, max_replicas: 4}",
        "    resources: {requests: {cpu: 100m, memory: 256Mi}, limits: {cpu: 500m, memory: 512Mi}}",
        "    ports: [{name: http, port: 3000}]",
        "    health: {kind: http, port: 3000, path: /health, interval: 15s, timeout: 5s, retries: 3, start_period: 20s}",
        "    metrics: {port: 3000, http: {}}",
        "    env: {NODE_ENV: production}",
        f"    depends_on: [{', '.join(calls)}]",
        "    scratch_paths: [/tmp]",
    ]


def _proxy(name: str, index: int) -> list[str]:
    return [
        f"  {name}:",
        "    kind: image",
        f"    image: {{repository: nginxinc/nginx-unprivileged, tag: 1.27-alpine, digest: \"{DIGEST}\"}}",
        "    probe_with: wget",
        "    ports: [{name: http, port: 8080}]",
        "    replicas: 1",
        "    resources: {requests: {cpu: 50m, memory: 64Mi}, limits: {cpu: 200m, memory: 128Mi}}",
        "    health: {kind: http, port: 8080, path: /, interval: 15s, timeout: 3s, retries: 3, start_period: 15s}",
        "    scratch_paths: [/tmp, /var/cache/nginx]",
        "    image_user: {uid: 101, gid: 101}",
        "    depends_on: [backend]",
        f"    expose: {{path: /{name}}}",
    ]


def _cache(name: str) -> tuple[list[str], list[str]]:
    service = [
        f"  {name}:",
        "    kind: redis",
        f"    image: {{repository: redis, tag: 7.0.15-bookworm, digest: \"{DIGEST}\"}}",
        "    ports: [{name: redis, port: 6379}]",
        "    replicas: 1",
        "    resources: {requests: {cpu: 100m, memory: 256Mi}, limits: {cpu: 500m, memory: 256Mi}}",
        "    health:",
        "      kind: command",
        f"      command: [sh, -c, 'redis-cli --no-auth-warning --user healthcheck --askpass ping < /run/secrets/{name}-health | grep -q PONG']",
        "      interval: 10s",
        "      timeout: 3s",
        "      retries: 5",
        "      start_period: 10s",
        f"    secrets: [{name}-health]",
        "    storage: {size: 1Gi, mount: /data}",
        "    scratch_paths: [/tmp]",
        "    image_user: {uid: 999, gid: 999}",
        "    config: {maxmemory_ratio: 0.9, maxmemory_policy: allkeys-lfu}",
        "    users:",
        '      app: "~* &* +@all -@dangerous -@admin -flushall -flushdb -config -debug -keys -shutdown -monitor -acl -function|flush -function|delete -function|restore -script|flush"',
        '      healthcheck: "+ping"',
        '      metrics: "+ping +info +client|list +client|setname +client|info +config|get +slowlog +latency +memory|stats +dbsize +module|list +select"',
        f"    acl_secret: {name}-acl",
        "    exporter:",
        f"      image: {{repository: oliver006/redis_exporter, tag: v1.62.0-alpine, digest: \"{DIGEST}\"}}",
        f"      secret: {name}-metrics",
    ]
    secrets = [
        f"  {name}-acl:",
        f"    description: ACL file of {name}.",
        f"  {name}-health:",
        f"    description: Password of {name}'s healthcheck user.",
        f"  {name}-metrics:",
        f"    description: Password of {name}'s metrics user.",
    ]
    return service, secrets


def _graph(name: str) -> list[str]:
    return [
        f"  {name}:",
        "    kind: neo4j",
        f"    image: {{repository: neo4j, tag: 5.26.0-community, digest: \"{DIGEST}\"}}",
        "    ports: [{name: bolt, port: 7687}, {name: http, port: 7474}]",
        "    replicas: 1",
        "    resources: {requests: {cpu: 500m, memory: 2Gi}, limits: {cpu: \"1\", memory: 2Gi}}",
        "    health: {kind: http, port: 7474, path: /, interval: 30s, timeout: 10s, retries: 5, start_period: 60s}",
        "    memory: {heap: 512m, pagecache: 512m}",
        "    env: {NEO4J_AUTH_FILE: /run/secrets/neo4j-auth}",
        "    secrets: [neo4j-auth]",
        "    storage: {size: 5Gi, mount: /data}",
        "    scratch_paths: [/tmp, /logs, /var/lib/neo4j/run]",
        "    seeded_dirs: [/var/lib/neo4j/conf]",
        "    image_user: {uid: 7474, gid: 7474}",
        "    writable_root_reason: the neo4j entrypoint writes its settings into the conf folder at start",
        "    backup: {method: maintenance-window, schedule: \"30 3 * * *\", retention_days: 7, alert_after: 26h, volume_size: 10Gi,",
        "             kubectl_image: {repository: bitnami/kubectl, tag: \"1.31.4\"}}",
    ]


def make_profile(services: int, base: str = "prod") -> str:
    """The text of a profile that extends ``base`` with ``services`` more services."""
    lines = [f"# {services} services beyond {base}'s, written by benchmarks/make_profile.py.", f"extends: {base}", "", "services:"]
    secrets: list[str] = []
    caches: list[str] = []
    graphs: list[str] = []
    for index in range(services):
        kind = KINDS[index % len(KINDS)]
        name = f"{kind}-{index:04d}"
        databases = ["neo4j", "redis"] + caches[-1:] + graphs[-1:]
        if kind == "worker":
            lines += _worker(name, databases)
        elif kind == "renderer":
            lines += _renderer(name, ["backend"] + caches[-1:])
        elif kind == "proxy":
            lines += _proxy(name, index)
        elif kind == "cache":
            service, more = _cache(name)
            lines += service
            secrets += more
            caches.append(name)
        else:
            lines += _graph(name)
            graphs.append(name)
    if secrets:
        lines += ["", "secrets:", *secrets]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, required=True, help="how many services to add (N ≥ 0)")
    parser.add_argument("--out", type=Path, required=True, help="profile file to write; its stem names the output folder")
    parser.add_argument("--extends", default="prod", help="the shipped profile it extends (default prod)")
    options = parser.parse_args(argv)
    if options.services < 0:
        parser.error("--services must be 0 or more")
    options.out.write_text(make_profile(options.services, options.extends), encoding="utf-8")
    # Pinned as a user's prod is after `render pin`, so the benchmark measures every check.
    lock = options.out.with_name(options.out.stem + LOCK_SUFFIX)
    lock.write_text(lock_text(EXAMPLE_DIGESTS), encoding="utf-8")
    print(f"wrote {options.out} and {lock.name}: {options.extends} plus {options.services} services")
    return 0


if __name__ == "__main__":
    sys.exit(main())
