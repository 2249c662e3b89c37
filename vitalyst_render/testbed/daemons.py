"""Background daemons the testbed owns, started and stopped by PID only.

A daemon is recorded as a PID file plus a marker that must appear in the process's
command line (its private socket or config path). Stopping checks the marker first, so
a recycled PID or another engine on the machine is never signalled.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import TestbedError


@dataclass(frozen=True)
class Daemon:
    name: str
    pidfile: Path
    marker: str  # a string only our instance has on its command line
    log: Path

    def pid(self) -> int | None:
        """The PID of our running instance, or None."""
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            return None
        return pid if self.marker in cmdline else None

    def start(self, argv: Sequence[str], ready: Callable[[], bool], timeout: float, writes_pidfile: bool = False) -> int:
        """Start argv in its own session and wait until ``ready()``; raise with the log's tail otherwise."""
        running = self.pid()
        if running is not None:
            return running
        self.pidfile.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            process = subprocess.Popen(  # noqa: S603 - argv is ours
                list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        if not writes_pidfile:
            self.pidfile.write_text(f"{process.pid}\n")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise TestbedError(f"{self.name} exited with status {process.returncode}: {self.tail()}")
            # Right after exec the kernel may show an empty command line for a moment: wait
            # until the instance is identifiable, so that pid() and stop() find it.
            if self.pid() == process.pid and ready():
                return process.pid
            time.sleep(0.2)
        self.stop()
        raise TestbedError(f"{self.name} did not become ready within {timeout:.0f}s: {self.tail()}")

    def stop(self, timeout: float = 30.0) -> bool:
        """SIGTERM our instance, then SIGKILL after ``timeout``; True when one was running."""
        pid = self.pid()
        if pid is None:
            self.pidfile.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.1)
        self.pidfile.unlink(missing_ok=True)
        return True

    def tail(self, lines: int = 5) -> str:
        try:
            text = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(text[-lines:]) or "(empty log)"


def _alive(pid: int) -> bool:
    try:
        # Reap it when it is our child; otherwise ask the kernel.
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = _proc_state(pid)
    return state not in ("Z", "X")


def _proc_state(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "X"
    return stat.rsplit(")", 1)[-1].split()[0]
