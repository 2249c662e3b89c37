"""The audit log: one JSON line per deploy action, appended, never holding a secret value.

A deploy handles secret names only (preflight asks the target whether they exist), so
no value can reach a line.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .model import DeployError


def who() -> str:
    """``user@host`` of the deploying machine; VITALYST_DEPLOY_USER names a CI actor instead."""
    user = os.environ.get("VITALYST_DEPLOY_USER") or _login()
    return f"{user}@{socket.gethostname()}"


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. an arbitrary uid in a container
        return f"uid-{os.getuid()}"


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class AuditLog:
    """Appends to ``path``; ``clock`` and ``actor`` are injectable for tests."""

    path: Path
    target: str
    profile: str
    actor: str = ""
    clock: Callable[[], str] = now

    def __post_init__(self) -> None:
        self.actor = self.actor or who()

    def append(self, what: str, result: str, **details: Any) -> dict[str, Any]:
        line = {"when": self.clock(), "who": self.actor, "what": what, "target": self.target, "profile": self.profile, "result": result}
        line.update(details)
        text = json.dumps(line, sort_keys=True, separators=(",", ":"))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # O_APPEND: concurrent deploys interleave whole lines, never halves.
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            with os.fdopen(fd, "a", encoding="utf-8") as handle:
                handle.write(text + "\n")
        except OSError as error:
            raise DeployError(f"cannot append to the audit log {self.path}: {error.strerror or error}") from None
        return line
