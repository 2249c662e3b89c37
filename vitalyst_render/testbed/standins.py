"""Stand-in base images, built from one Debian root filesystem and cached by their inputs.

No public registry is reachable, so each upstream image our artefacts use is replaced by
a small image that mimics what the artefacts depend on (paths, users, entrypoint
behaviour, the programs health checks call). ``standins/FIDELITY.md`` says what each one
does not do. Every stand-in is pushed to the testbed's registry, so profiles pin them by
real digests.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .engine import Testbed
from .errors import TestbedError

STANDINS_DIR = Path(__file__).parent / "standins"
SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"


@dataclass(frozen=True)
class StandIn:
    name: str  # its build context: standins/<name>/
    upstream: str  # the repository it stands in for
    tag: str  # the upstream tag our profiles use

    @property
    def repository(self) -> str:
        return f"standin/{self.upstream.rsplit('/', 1)[-1]}"


STANDINS = (
    StandIn("python", "python", "3.12-slim-bookworm"),
    StandIn("node", "node", "22-bookworm-slim"),
    StandIn("redis", "redis", "7.0.15-bookworm"),
    StandIn("neo4j", "neo4j", "5.26.0-community"),
    StandIn("redis-exporter", "oliver006/redis_exporter", "v1.62.0-alpine"),
)


@dataclass(frozen=True)
class PushedImage:
    repository: str  # REGISTRY/standin/python
    tag: str
    digest: str

    @property
    def reference(self) -> str:
        return f"{self.repository}:{self.tag}@{self.digest}"


def packages() -> list[str]:
    lines = (STANDINS_DIR / "packages.txt").read_text().splitlines()
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


def mirror() -> str:
    return os.environ.get("VITALYST_TESTBED_MIRROR", DEFAULT_MIRROR)


def _digest(*parts: bytes) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(len(part).to_bytes(8, "big"))
        sha.update(part)
    return sha.hexdigest()


def rootfs_key() -> str:
    return _digest(SUITE.encode(), mirror().encode(), "\n".join(packages()).encode())


def context_key(folder: Path, base_key: str) -> str:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return _digest(base_key.encode(), *(f"{p.relative_to(folder)}\0{p.stat().st_mode & 0o111}".encode() + p.read_bytes() for p in files))


def ensure_rootfs(testbed: Testbed) -> tuple[str, str]:
    """Import the cached root filesystem (building it with mmdebstrap when missing);
    return its image and its inputs' key."""
    key = rootfs_key()
    image = f"vitalyst-testbed/rootfs:{key[:16]}"
    if _has_image(testbed, image):
        return image, key
    cache = testbed.root / "cache" / f"rootfs-{key[:16]}.tar"
    if not cache.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_name(cache.name + ".partial")
        command = ["mmdebstrap", "--variant=apt", "--format=tar", "--include=" + ",".join(packages()), SUITE, str(partial), mirror()]
        result = subprocess.run(command, capture_output=True, text=True, timeout=1800)  # noqa: S603
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            raise TestbedError(f"mmdebstrap failed: {result.stderr.strip().splitlines()[-1:]}")
        partial.replace(cache)
    testbed.docker("import", str(cache), image)
    return image, key


def build(testbed: Testbed, dockerfile: Path, context: Path, tag: str, build_args: dict[str, str] | None = None) -> None:
    """Build with the classic builder: BuildKit would pull its dockerfile frontend from Docker Hub."""
    args = ["build", "--quiet", "--file", str(dockerfile), "--tag", tag]
    for key, value in (build_args or {}).items():
        args += ["--build-arg", f"{key}={value}"]
    testbed.docker(*args, str(context), env={"DOCKER_BUILDKIT": "0"}, timeout=1200)


def ensure_standins(testbed: Testbed) -> dict[str, PushedImage]:
    """Build what is missing, push every stand-in and record the digests in the testbed state."""
    base, base_key = ensure_rootfs(testbed)
    pushed = {}
    for standin in STANDINS:
        folder = STANDINS_DIR / standin.name
        local = f"vitalyst-testbed/{standin.name}:{context_key(folder, base_key)[:16]}"
        if not _has_image(testbed, local):
            build(testbed, folder / "Dockerfile", folder, local, {"BASE": base})
        digest = testbed.push(local, standin.repository, standin.tag)
        pushed[standin.name] = PushedImage(f"{testbed.registry}/{standin.repository}", standin.tag, digest)
    testbed.record(images={name: image.reference for name, image in pushed.items()})
    return pushed


def _has_image(testbed: Testbed, image: str) -> bool:
    return testbed.docker("image", "inspect", image, check=False, timeout=60).returncode == 0
