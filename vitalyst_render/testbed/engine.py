"""The testbed: a private Docker engine in single-node swarm mode plus a local registry.

Everything lives under one state folder (``VITALYST_TESTBED_DIR``, default
``/var/lib/vitalyst-testbed``): the daemon's socket, data and exec roots, the registry's
storage, the cached root filesystem and ``state.json``. Keeping the data root between
runs is the image cache; ``down`` leaves the swarm (removing every service, secret and
network) and stops both daemons by PID, and ``down --purge`` also deletes the folder.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .daemons import Daemon
from .errors import TestbedError, TestbedUnavailable

DEFAULT_DIR = Path("/var/lib/vitalyst-testbed")
#: Debian's CLI (20.10) comes with the daemon; a newer CLI may sit earlier on PATH.
DEBIAN_CLI = "/usr/bin/docker"


def state_dir() -> Path:
    return Path(os.environ.get("VITALYST_TESTBED_DIR", DEFAULT_DIR))


def unavailable_reason() -> str | None:
    """Why this machine cannot run the testbed, or None when it can."""
    if os.geteuid() != 0:
        return "the testbed needs root (it starts dockerd)"
    for program in ("dockerd", "docker-registry", "mmdebstrap"):
        if shutil.which(program) is None:
            return f"{program} is not installed (scripts/install-tools.sh installs docker.io, docker-registry and mmdebstrap)"
    if not Path(DEBIAN_CLI).exists():
        return f"{DEBIAN_CLI} is missing (Debian's docker.io package provides it)"
    cgroup = Path("/sys/fs/cgroup")
    if not (cgroup / "cgroup.controllers").exists() and not (cgroup / "memory").is_dir():
        return "no cgroup hierarchy at /sys/fs/cgroup"
    return None


@dataclass
class Testbed:
    """One private engine. Methods raise :class:`TestbedError` with a one-line reason."""

    root: Path = field(default_factory=state_dir)

    @property
    def socket(self) -> Path:
        return self.root / "docker.sock"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def dockerd(self) -> Daemon:
        return Daemon("dockerd", self.root / "docker.pid", str(self.socket), self.root / "dockerd.log")

    @property
    def registry_daemon(self) -> Daemon:
        return Daemon("docker-registry", self.root / "registry.pid", str(self.root / "registry.yml"), self.root / "registry.log")

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    # -- state -------------------------------------------------------------------------

    def state(self) -> dict[str, object]:
        try:
            loaded = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def record(self, **changes: object) -> None:
        state = {**self.state(), **changes}
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
        temporary.replace(self.state_file)

    @property
    def registry(self) -> str:
        """``127.0.0.1:PORT`` of the running registry."""
        port = self.state().get("registry_port")
        if not isinstance(port, int) or self.registry_daemon.pid() is None:
            raise TestbedError("the testbed registry is not running (render testbed up)")
        return f"127.0.0.1:{port}"

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One process at a time changes the testbed."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / "lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    # -- lifecycle ---------------------------------------------------------------------

    def up(self) -> None:
        """Start the daemon, initialise swarm on 127.0.0.1 and start the registry."""
        reason = unavailable_reason()
        if reason is not None:
            raise TestbedUnavailable(reason)
        self.root.mkdir(parents=True, exist_ok=True)
        self._start_dockerd()
        if self.swarm_state() != "active":
            self.docker("swarm", "init", "--advertise-addr", "127.0.0.1")
        self._start_registry()

    def reset_swarm(self) -> None:
        """A fresh swarm: every service, secret, config and network of earlier runs is gone."""
        if self.swarm_state() == "active":
            self.docker("swarm", "leave", "--force")
        self.docker("swarm", "init", "--advertise-addr", "127.0.0.1")

    def down(self, purge: bool = False) -> list[str]:
        """Leave the swarm, stop both daemons by PID; with purge delete the state folder."""
        stopped = []
        if self.dockerd.pid() is not None:
            if self.swarm_state() == "active":
                self.docker("swarm", "leave", "--force", check=False)
            if self.dockerd.stop():
                stopped.append("dockerd")
        if self.registry_daemon.stop():
            stopped.append("docker-registry")
        if purge and self.root.exists():
            # The daemon's mounts are gone once it has stopped; what is left is files.
            shutil.rmtree(self.root)
        return stopped

    def status(self) -> dict[str, object]:
        engine = self.dockerd.pid()
        registry = self.registry_daemon.pid()
        state = self.state()
        return {
            "state_dir": str(self.root),
            "dockerd": {"pid": engine, "socket": str(self.socket), "storage_driver": state.get("storage_driver")},
            "swarm": self.swarm_state() if engine is not None else "down",
            "registry": {"pid": registry, "address": f"127.0.0.1:{state.get('registry_port')}" if registry else None},
            "images": state.get("images", {}),
            # Without IPVS a service's virtual IP does not route; tasks.<service> DNS still does.
            "service_vips": "routed" if Path("/proc/net/ip_vs").exists() else "not routed: this kernel has no IPVS",
        }

    def _start_dockerd(self) -> None:
        if self.dockerd.pid() is not None:
            return
        # overlay2 is fast and small; some kernels or nested setups only manage vfs.
        failures = []
        for driver in ("overlay2", "vfs"):
            argv = [
                "dockerd",
                "--host", self.host,
                "--data-root", str(self.root / "data"),
                "--exec-root", str(self.root / "exec"),
                "--pidfile", str(self.dockerd.pidfile),
                "--iptables=false", "--ip-masq=false", "--bridge=none",
                # Swarm ignores a service's security_opt; nodes set it, as docs/operations.md says.
                "--no-new-privileges",
                "--storage-driver", driver,
            ]  # fmt: skip
            try:
                self.dockerd.start(argv, self._engine_answers, timeout=60, writes_pidfile=True)
            except TestbedError as error:
                failures.append(f"{driver}: {error}")
                continue
            self.record(storage_driver=driver)
            return
        raise TestbedError("dockerd would not start: " + "; ".join(failures))

    def _engine_answers(self) -> bool:
        if not self.socket.exists():
            return False
        result = subprocess.run([DEBIAN_CLI, "--host", self.host, "version"], capture_output=True, timeout=10)  # noqa: S603
        return result.returncode == 0

    def _start_registry(self) -> None:
        port = self.state().get("registry_port")
        if self.registry_daemon.pid() is not None and isinstance(port, int):
            return
        port = _free_port()
        config = self.root / "registry.yml"
        # The registry's own config format; its storage persists, so pushes of known layers are cheap.
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: warn\n"
            f"storage:\n  filesystem:\n    rootdirectory: {self.root / 'registry'}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: 127.0.0.1:{port}\n"
        )
        self.record(registry_port=port)
        self.registry_daemon.start(["docker-registry", "serve", str(config)], lambda: _port_open(port), timeout=30)

    # -- the engine --------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """Environment for a docker CLI that talks to this engine only."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        env.update(DOCKER_HOST=self.host, DOCKER_CONFIG=str(self.root / "cli-config"), DOCKER_CLI_HINTS="false")
        return env

    def docker(
        self,
        *args: str,
        cli: str = DEBIAN_CLI,
        input: str | None = None,
        check: bool = True,
        timeout: float = 600,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run the docker CLI against this engine; raise with its stderr when ``check``."""
        result = subprocess.run(  # noqa: S603
            [cli, *args], input=input, capture_output=True, text=True, timeout=timeout, env={**self.env(), **(env or {})}
        )
        if check and result.returncode != 0:
            raise TestbedError(f"docker {' '.join(args[:3])} failed: {(result.stderr or result.stdout).strip()}")
        return result

    def swarm_state(self) -> str:
        result = self.docker("info", "--format", "{{.Swarm.LocalNodeState}}", check=False, timeout=30)
        return result.stdout.strip() if result.returncode == 0 else "unknown"

    def push(self, local: str, repository: str, tag: str) -> str:
        """Tag ``local`` as REGISTRY/repository:tag, push it and return the registry's digest."""
        remote = f"{self.registry}/{repository}:{tag}"
        self.docker("tag", local, remote)
        self.docker("push", remote)
        digests: Sequence[str] = json.loads(self.docker("image", "inspect", "--format", "{{json .RepoDigests}}", remote).stdout)
        prefix = f"{self.registry}/{repository}@"
        for digest in digests:
            if digest.startswith(prefix):
                return digest.removeprefix(prefix)
        raise TestbedError(f"pushed {remote} but the engine reports no digest for it")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0
