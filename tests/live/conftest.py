"""The live stack: stand-ins built and pushed, both rendered Dockerfiles built, the rendered
swarm stack deployed on the testbed, once per session.

The live profile extends prod and changes only what one small machine and a fast test
need: images from the testbed registry (pinned by their real digests), small
resources, two backend replicas and short health intervals. Everything goes through
the real CLI: ``render --profile-file``, ``render redis-acl`` and ``docker stack deploy``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import vitalyst_render as vr
from vitalyst_render.plan import StackPlan
from vitalyst_render.testbed import DEBIAN_CLI, PushedImage, Testbed, build, ensure_standins, unavailable_reason
from vitalyst_render.testbed import probes

LIVE = Path(__file__).parent
APPS = LIVE / "apps"
STACK = "vitalyst-live"
APP_TAG = "1.0.0"

SMALL = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}


def fast_health(start_period: str = "20s") -> dict[str, object]:
    return {"interval": "2s", "timeout": "2s", "retries": 3, "start_period": start_period}


def image(pushed: PushedImage) -> dict[str, str]:
    return {"repository": pushed.repository, "tag": pushed.tag, "digest": pushed.digest}


def live_profile(standins: dict[str, PushedImage], apps: dict[str, PushedImage] | None = None) -> dict[str, object]:
    """The live profile as data (JSON is YAML). Without ``apps`` the backend and frontend
    keep prod's placeholder digests: enough to render the Dockerfiles that build them."""
    python, node = standins["python"], standins["node"]
    services: dict[str, dict[str, object]] = {
        "backend": {"replicas": 2, "autoscaling": {"min_replicas": 2, "max_replicas": 3}, "resources": SMALL, "health": fast_health()},
        "frontend": {"replicas": 1, "autoscaling": {"min_replicas": 1, "max_replicas": 2}, "resources": SMALL, "health": fast_health()},
        "neo4j": {
            "image": image(standins["neo4j"]),
            "memory": {"heap": "128m", "pagecache": "64m"},
            "resources": {"requests": {"cpu": "50m", "memory": "512Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}},
            "health": fast_health(),
            # Only the Kubernetes backup window runs kubectl, and nothing here runs Kubernetes:
            # any image the testbed's registry holds stands in, so every image pins here.
            "backup": {"kubectl_image": image(standins["python"])},
        },
        "redis": {
            "image": image(standins["redis"]),
            "resources": {"requests": {"cpu": "50m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
            "health": fast_health("10s"),
            "exporter": {"image": image(standins["redis-exporter"])},
        },
    }
    for name, pushed in (apps or {}).items():
        services[name]["image"] = image(pushed)
    return {
        "extends": "prod",
        "build": {
            "base_images": {
                "python": {"image": python.repository, "tag": python.tag, "digest": python.digest},
                "node": {"image": node.repository, "tag": node.tag, "digest": node.digest},
            }
        },
        "services": services,
        "deployment": {"update": {"delay": "1s"}},
    }


def render_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vitalyst_render.cli", *args], capture_output=True, text=True, timeout=300)


@dataclass
class Live:
    testbed: Testbed
    work: Path
    standins: dict[str, PushedImage]
    apps: dict[str, PushedImage] = field(default_factory=dict)
    secret_values: dict[str, str] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)  # Redis ACL user -> password
    acl: str = ""  # the filled-in ACL file (hashes only)
    deploys: list[tuple[str, str]] = field(default_factory=list)  # (CLI version, stderr)
    healthy_after: dict[str, float] = field(default_factory=dict)
    plan: StackPlan | None = None

    @property
    def profile_path(self) -> Path:
        return self.work / "live.yaml"

    @property
    def stack_file(self) -> Path:
        return self.work / "out" / "live" / "compose" / "docker-compose.yml"

    def render(self, profile: dict[str, object], name: str = "live") -> Path:
        path = self.work / f"{name}.yaml"
        path.write_text(json.dumps(profile, indent=2))
        result = render_cli("--profile-file", str(path), "--out", str(self.work / "out"))
        assert result.returncode == 0, result.stdout + result.stderr
        return self.work / "out" / name

    def build_app(self, name: str, context: Path, tag: str = APP_TAG) -> PushedImage:
        dockerfile = self.work / "out" / "live" / "docker" / name / "Dockerfile"
        local = f"vitalyst-live/{name}:{tag}"
        build(self.testbed, dockerfile, context, local)
        repository = f"vitalyst/{name}"
        digest = self.testbed.push(local, repository, tag)
        return PushedImage(f"{self.testbed.registry}/{repository}", tag, digest)

    def deploy(self, stack_file: Path, cli: str = DEBIAN_CLI, stack: str = STACK) -> tuple[str, str]:
        """``docker stack deploy`` with ``cli``: (the CLI's version, what it printed on stderr)."""
        version = self.testbed.docker("version", "--format", "{{.Client.Version}}", cli=cli).stdout.strip()
        args = ["stack", "deploy", "--prune", "--with-registry-auth", "-c", str(stack_file), stack]
        if int(version.split(".")[0]) >= 23:
            args.insert(2, "--detach=true")  # newer CLIs warn unless told
        return version, self.testbed.docker(*args, cli=cli).stderr

    def running(self, stack: str = STACK) -> dict[str, list[probes.Container]]:
        assert self.plan is not None
        return probes.containers(self.testbed, stack, self.plan)


def newer_cli() -> str | None:
    """A docker CLI >= 23 on PATH besides Debian's, if there is one."""
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        candidate = Path(folder) / "docker"
        if candidate.is_file() and os.access(candidate, os.X_OK) and candidate.resolve() != Path(DEBIAN_CLI).resolve():
            result = subprocess.run([str(candidate), "--version"], capture_output=True, text=True)
            match = re.search(r"version (\d+)\.", result.stdout)
            if match and int(match.group(1)) >= 23:
                return str(candidate)
    return None


@pytest.fixture(scope="session")
def testbed():
    reason = unavailable_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the live testbed cannot run here: {reason}")
        pytest.skip(f"the live testbed cannot run here: {reason}")
    bed = Testbed()
    with bed.locked():
        bed.up()
        standins = ensure_standins(bed)
    yield bed, standins
    with bed.locked():
        bed.down()


@pytest.fixture(scope="session")
def live(testbed, tmp_path_factory):
    bed, standins = testbed
    state = Live(bed, tmp_path_factory.mktemp("live"), standins)
    bed.reset_swarm()  # nothing left over from an interrupted run
    # Dockerfiles first (the apps' own digests do not exist yet), then the real stack.
    state.render(live_profile(standins))
    state.apps = {
        "backend": state.build_app("backend", APPS / "backend"),
        "frontend": state.build_app("frontend", APPS / "frontend"),
    }
    state.render(live_profile(standins, state.apps))
    state.plan = vr.render(vr.load_profile(state.profile_path)).plan
    create_secrets(state)
    state.deploys.append(state.deploy(state.stack_file))
    state.healthy_after = probes.wait_healthy(bed, STACK, state.plan, timeout=240)
    cli = newer_cli()
    if cli is not None:
        state.deploys.append(state.deploy(state.stack_file, cli=cli))
        probes.wait_healthy(bed, STACK, state.plan, timeout=240)
    yield state
    bed.docker("stack", "rm", STACK, check=False)


@pytest.fixture(scope="session")
def broken_backend(live, tmp_path_factory):
    """The backend built from a source whose /health answers 503: a release that must fail."""
    context = tmp_path_factory.mktemp("broken") / "backend"
    shutil.copytree(APPS / "backend", context)
    (context / "src" / "BROKEN").write_text("health answers 503\n")
    return live.build_app("backend", context, tag="1.0.1-broken")


def create_secrets(state: Live) -> None:
    """Throwaway values for every secret of the profile; the ACL through ``render redis-acl``."""
    state.passwords = {user: secrets.token_urlsafe(18) for user in ("app", "healthcheck", "metrics", "backup")}
    state.secret_values = {
        "neo4j-auth": f"neo4j/{secrets.token_urlsafe(18)}",
        "redis-app-password": state.passwords["app"],
        "redis-health-password": state.passwords["healthcheck"],
        "redis-metrics-password": state.passwords["metrics"],
        "redis-backup-password": state.passwords["backup"],
        "alertmanager-slack-url": f"https://hooks.slack.invalid/{secrets.token_urlsafe(18)}",
    }
    for name, value in state.secret_values.items():
        state.testbed.docker("secret", "create", name, "-", input=value)
    folder = state.work / "passwords"
    folder.mkdir(mode=0o700)
    for user, password in state.passwords.items():
        (folder / user).write_text(password + "\n")
    acl = render_cli("redis-acl", "--profile-file", str(state.profile_path), "--passwords-dir", str(folder))
    assert acl.returncode == 0, acl.stderr
    shutil.rmtree(folder)
    state.acl = acl.stdout
    state.testbed.docker("secret", "create", "redis-acl", "-", input=acl.stdout)
