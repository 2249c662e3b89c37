"""Image digests from registries: the HTTP client, the image lock, and ``render pin``.

The registry here is tests/fake_registry.py on 127.0.0.1 (the token flow included); the
testbed's real docker-registry is pinned against in tests/live/test_live_pin.py.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import vitalyst_render as vr
from vitalyst_render.errors import ProfileError
from vitalyst_render.profile.lock import image_sites, lock_path, read_lock
from vitalyst_render.registry import RegistryError, exists, resolve
from vitalyst_render.resources import data_dir

from .fake_registry import FakeRegistry

SERVICES = {
    "backend": "vitalyst/backend",
    "frontend": "vitalyst/frontend",
    "neo4j": "library/neo4j",
    "redis": "library/redis",
}


@pytest.fixture
def docker_config(tmp_path, monkeypatch):
    """An empty docker config: no login of the machine's user leaks into a test."""
    folder = tmp_path / "docker-config"
    folder.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(folder))
    return folder


def login(folder: Path, host: str, user: str, password: str) -> None:
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    (folder / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))


# -- the registry client ------------------------------------------------------------------


def test_an_open_registry_resolves_a_tag_to_the_digest_of_its_manifest(docker_config):
    with FakeRegistry() as registry:
        digest = registry.push("vitalyst/backend", "1.0.0")
        assert resolve(f"{registry.host}/vitalyst/backend:1.0.0") == digest
        assert [r.method for r in registry.requests] == ["HEAD"]


def test_the_token_flow_gets_a_pull_token_for_the_repository_and_sends_it(docker_config):
    with FakeRegistry(auth="bearer") as registry:
        digest = registry.push("vitalyst/backend", "1.0.0")
        assert resolve(f"{registry.host}/vitalyst/backend:1.0.0") == digest
        first, token, again = registry.requests
        assert first.authorization is None
        assert token.path == "/token?service=fake-registry&scope=repository%3Avitalyst%2Fbackend%3Apull"
        assert token.authorization is None  # anonymous: no login for this host
        assert again.authorization == "Bearer token-vitalyst-backend"


def test_the_token_service_gets_the_docker_login_of_the_host(docker_config):
    with FakeRegistry(auth="bearer", user="ci", password="s3cret") as registry:
        digest = registry.push("vitalyst/backend", "1.0.0")
        with pytest.raises(RegistryError, match="refused a pull token anonymously"):
            resolve(f"{registry.host}/vitalyst/backend:1.0.0")
        login(docker_config, registry.host, "ci", "s3cret")
        assert resolve(f"{registry.host}/vitalyst/backend:1.0.0") == digest


def test_a_basic_challenge_is_answered_with_the_login_and_without_one_says_how(docker_config):
    with FakeRegistry(auth="basic", user="ci", password="pw") as registry:
        digest = registry.push("vitalyst/frontend", "2.0.0")
        with pytest.raises(RegistryError, match=rf"asks for a login .* \(docker login {registry.host}\)"):
            resolve(f"{registry.host}/vitalyst/frontend:2.0.0")
        login(docker_config, f"http://{registry.host}", "ci", "pw")
        assert resolve(f"{registry.host}/vitalyst/frontend:2.0.0") == digest


def test_a_registry_without_head_or_digest_header_is_read_by_get(docker_config):
    with FakeRegistry(head=False, digest_header=False) as registry:
        digest = registry.push("vitalyst/backend", "1.0.0")
        assert resolve(f"{registry.host}/vitalyst/backend:1.0.0") == digest
        assert [r.method for r in registry.requests] == ["HEAD", "GET"]


def test_exists_asks_for_the_pinned_digest(docker_config):
    with FakeRegistry(auth="bearer") as registry:
        digest = registry.push("vitalyst/backend", "1.0.0")
        assert exists(f"{registry.host}/vitalyst/backend:1.0.0@{digest}")
        assert not exists(f"{registry.host}/vitalyst/backend:1.0.0@sha256:{'0' * 64}")


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("{host}/vitalyst/backend:9.9.9", "manifest unknown: the registry has no tag '9.9.9' in vitalyst/backend"),
        ("{host}/vitalyst/backend", "no tag: give repo:tag"),
        ("{host}/Vitalyst/Backend:1", "not an image reference"),
        ("{host}/vitalyst/backend:1.0.0@sha256:abc", "expected a digest"),
    ],
)
def test_resolve_refuses_what_it_cannot_answer_in_one_line(docker_config, reference, message):
    with FakeRegistry() as registry:
        registry.push("vitalyst/backend", "1.0.0")
        with pytest.raises(RegistryError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
            resolve(reference.format(host=registry.host))
        assert "\n" not in str(caught.value)


def test_a_failing_or_unreachable_registry_is_one_error_naming_it(docker_config):
    with FakeRegistry(fail_with=503) as registry:
        with pytest.raises(RegistryError, match=r"registry 127\.0\.0\.1:\d+: .*: the registry failed \(503\)$"):
            resolve(f"{registry.host}/vitalyst/backend:1.0.0")
        host = registry.host
    with pytest.raises(RegistryError, match="cannot reach"):
        resolve(f"{host}/vitalyst/backend:1.0.0", timeout=2)


# -- the image lock --------------------------------------------------------------------------


def test_the_shipped_prod_lock_pins_nothing_and_says_why():
    loaded = vr.load_profile("prod")
    assert loaded.unpinned and "render pin --profile prod" in loaded.unpinned
    assert not loaded.digests_required
    assert [site.digest for site in image_sites(loaded.profile)] == [None] * 8
    report = vr.check(vr.render(loaded), tools=False)
    assert [f.check_id for f in report.findings if f.check_id in ("VR103", "VR307", "VR604", "VR608")] == ["VR608"]


def test_a_lock_fills_every_digest_the_profile_leaves_out_and_the_profile_wins(tmp_path):
    profile = tmp_path / "hotfix.yaml"
    profile.write_text('extends: prod\nservices:\n  neo4j:\n    image: {digest: "sha256:' + "9" * 64 + '"}\n')
    lock = {site.reference: "sha256:" + f"{index:064x}" for index, site in enumerate(image_sites(vr.load_profile("prod").profile))}
    lock_path(profile).write_text(json.dumps({"images": lock}))
    loaded = vr.load_profile(profile)
    digests = {site.reference: site.digest for site in image_sites(loaded.profile)}
    assert digests["neo4j:5.26.0-community"] == "sha256:" + "9" * 64
    assert all(digests[ref] == digest for ref, digest in lock.items() if not ref.startswith("neo4j"))
    assert loaded.digests_required and loaded.unpinned is None
    assert "neo4j:5.26.0-community" not in loaded.locked
    assert loaded.digest != vr.load_profile(profile, use_lock=False).digest


def test_a_pinned_prod_child_that_misses_one_digest_is_refused_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    profile = tmp_path / "hotfix.yaml"
    profile.write_text("extends: prod\n")
    sites = [site for site in image_sites(vr.load_profile("prod").profile) if site.reference != "node:22-bookworm-slim"]
    lock_path(profile).write_text(json.dumps({"images": {site.reference: "sha256:" + "ab" * 32 for site in sites}}))
    result = cli("--profile-file", str(profile), "--out", "out", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"^out/hotfix/docker/frontend/Dockerfile:\d+:\d+: error VR103 base image 'node:22-bookworm-slim' is not pinned "
                     r"by digest in prod \(hint: run render pin --profile hotfix", result.stdout, re.M), result.stdout
    assert "VR608" not in result.stdout
    assert not (tmp_path / "out" / "hotfix").exists()


def test_a_profile_without_a_lock_reads_the_locks_of_the_profiles_it_extends(tmp_path):
    folder = tmp_path / "profiles"
    folder.mkdir()
    for name in ("base", "cluster", "prod"):
        (folder / f"{name}.yaml").write_text((Path(data_dir("profiles")) / f"{name}.yaml").read_text())
    (folder / "prod.lock.yaml").write_text('images:\n  "redis:7.0.15-bookworm": "sha256:' + "4" * 64 + '"\n')
    child = tmp_path / "child.yaml"
    child.write_text("extends: prod\n")
    loaded = vr.load_profile(child, profiles_dir=folder)
    assert loaded.locked == ("redis:7.0.15-bookworm",)
    assert loaded.locks == (folder.resolve() / "prod.lock.yaml",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("images:\n  redis: sha256:1\n", "lock.lock.yaml:2:3: images: expected repository:tag, got \"redis\""),
        ('images:\n  "redis:7": sha256:1\n', "lock.lock.yaml:2:14: images.redis:7: expected a digest (sha256: and 64 lowercase hex digits), got \"sha256:1\""),
        ("pins: {}\n", "lock.lock.yaml:1:1: pins: unknown key 'pins'; expected one of: images, unpinned"),
        ("unpinned: ''\n", "lock.lock.yaml:1:11: unpinned: expected a one-line reason why the images are not pinned, got \"\""),
        ("images: [a\n", "lock.lock.yaml:1:9: invalid YAML: the '[' here is never closed"),
    ],
)
def test_a_broken_lock_is_a_placed_one_line_error(tmp_path, monkeypatch, text, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lock.yaml").write_text("extends: staging\n")
    (tmp_path / "lock.lock.yaml").write_text(text)
    with pytest.raises(ProfileError) as caught:
        vr.load_profile(tmp_path / "lock.yaml")
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


# -- render pin, through the CLI ---------------------------------------------------------------


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vitalyst_render.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=os.environ.copy())


def registry_profile(folder: Path, host: str) -> Path:
    """prod with every image in the fake registry, by tag only."""
    services: dict[str, object] = {name: {"image": {"repository": f"{host}/{repo}"}} for name, repo in SERVICES.items()}
    services["redis"] = {**services["redis"], "exporter": {"image": {"repository": f"{host}/oliver006/redis_exporter"}}}  # type: ignore[dict-item]
    services["neo4j"] = {**services["neo4j"], "backup": {"kubectl_image": {"repository": f"{host}/bitnami/kubectl"}}}  # type: ignore[dict-item]
    data = {
        "extends": "prod",
        "build": {"base_images": {"python": {"image": f"{host}/library/python"}, "node": {"image": f"{host}/library/node"}}},
        "services": services,
    }
    path = folder / "shop.yaml"
    path.write_text(json.dumps(data, indent=2))
    return path


def push_all(registry: FakeRegistry) -> dict[str, str]:
    tags = {
        "vitalyst/backend": "1.0.0", "vitalyst/frontend": "1.0.0", "library/neo4j": "5.26.0-community",
        "library/redis": "7.0.15-bookworm", "oliver006/redis_exporter": "v1.62.0-alpine",
        "bitnami/kubectl": "1.31.4", "library/python": "3.12-slim-bookworm", "library/node": "22-bookworm-slim",
    }
    return {f"{registry.host}/{repo}:{tag}": registry.push(repo, tag) for repo, tag in tags.items()}


def test_render_pin_writes_every_digest_and_the_render_is_pinned(tmp_path, docker_config):
    with FakeRegistry(auth="bearer") as registry:
        pushed = push_all(registry)
        profile = registry_profile(tmp_path, registry.host)
        result = cli("pin", "--profile-file", str(profile), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert sorted(result.stdout.splitlines()[:8]) == sorted(f"{ref}: new {digest}" for ref, digest in pushed.items())
        assert "wrote shop.lock.yaml" in result.stdout
        lock = tmp_path / "shop.lock.yaml"
        assert set(vr.load_profile(profile).locked) == set(pushed)
        text = lock.read_text()
        assert "unpinned" not in text

        rendered = cli("--profile-file", str(profile), "--out", "out", cwd=tmp_path)
        assert rendered.returncode == 0, rendered.stdout + rendered.stderr
        assert "VR608" not in rendered.stdout and "VR307" not in rendered.stdout
        compose = (tmp_path / "out" / "shop" / "compose" / "docker-compose.yml").read_text()
        backend = f"{registry.host}/vitalyst/backend:1.0.0"
        assert f'image: "{backend}@{pushed[backend]}"' in compose

        again = cli("pin", "--profile-file", str(profile), cwd=tmp_path)
        assert again.returncode == 0 and "shop.lock.yaml is up to date" in again.stdout
        assert lock.read_text() == text

        moved = registry.push("vitalyst/backend", "1.0.0", content="rebuilt")
        checked = cli("pin", "--check", "--profile-file", str(profile), cwd=tmp_path)
        assert checked.returncode == 1
        assert f"{backend}: moved {pushed[backend]} -> {moved}" in checked.stdout
        assert "shop.lock.yaml is out of date" in checked.stderr
        assert lock.read_text() == text

        registry.fail_with = 503
        failed = cli("pin", "--profile-file", str(profile), cwd=tmp_path)
        assert failed.returncode == 1
        assert failed.stderr.count("\n") == 1 and "the registry failed (503" in failed.stderr
        assert lock.read_text() == text


def test_render_pin_leaves_a_digest_the_profile_writes_alone(tmp_path, docker_config):
    with FakeRegistry() as registry:
        pushed = push_all(registry)
        profile = registry_profile(tmp_path, registry.host)
        data = json.loads(profile.read_text())
        data["services"]["neo4j"]["image"]["digest"] = "sha256:" + "3" * 64
        profile.write_text(json.dumps(data))
        result = cli("pin", "--profile-file", str(profile), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        neo4j = f"{registry.host}/library/neo4j:5.26.0-community"
        assert f"{neo4j}: pinned in the profile at services.neo4j.image.digest (sha256:{'3' * 64}); left alone" in result.stdout
        lock = read_lock(tmp_path / "shop.lock.yaml")
        assert lock is not None and neo4j not in lock.images and len(lock.images) == len(pushed) - 1


def test_without_a_lock_of_its_own_a_prod_child_is_unpinned_and_says_so(tmp_path, docker_config):
    profile = registry_profile(tmp_path, "127.0.0.1:9")
    result = cli("--profile-file", str(profile), "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning VR608 shop renders 8 images without a digest" in result.stdout


def test_render_pin_drops_a_reason_left_in_a_lock_that_pins_everything(tmp_path, docker_config):
    with FakeRegistry() as registry:
        pushed = push_all(registry)
        profile = registry_profile(tmp_path, registry.host)
        lock = tmp_path / "shop.lock.yaml"
        lock.write_text(json.dumps({"unpinned": "not set up yet", "images": pushed}))
        result = cli("pin", "--profile-file", str(profile), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "wrote shop.lock.yaml" in result.stdout
        written = read_lock(lock)
        assert written is not None and written.unpinned is None and dict(written.images) == pushed

