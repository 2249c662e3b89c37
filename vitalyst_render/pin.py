"""``render pin``: resolve every image tag of a profile to its digest and keep them in the lock.

:func:`plan_pins` asks each image's registry (:mod:`vitalyst_render.registry`) what
its tag points at now and compares the answer with the lock; :func:`write_lock`
writes the result atomically beside the profile. Images whose digest the profile
writes itself are left alone: the profile wins over the lock.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .errors import ArtefactError
from .profile.files import display_path
from .profile.loader import LoadedProfile
from .profile.lock import ImageLock, image_sites, lock_path, lock_text, read_lock

Resolve = Callable[[str], str]


@dataclass(frozen=True)
class Pin:
    """One image reference and what pinning does to it."""

    reference: str  # repository:tag
    status: Literal["new", "unchanged", "moved", "in-profile"]
    digest: str
    before: str | None = None  # the lock's digest when it moved
    where: str = ""  # the profile field that names it

    def describe(self) -> str:
        if self.status == "in-profile":
            return f"{self.reference}: pinned in the profile at {self.where} ({self.digest}); left alone"
        if self.status == "moved":
            return f"{self.reference}: moved {self.before} -> {self.digest}"
        return f"{self.reference}: {self.status} {self.digest}"


@dataclass(frozen=True)
class PinPlan:
    lock: Path
    pins: tuple[Pin, ...]
    dropped: tuple[str, ...]  # lock entries no image of the profile uses any more
    text: str  # the lock file to write
    drops_reason: bool = False  # the old lock said why it was unpinned; a pinned lock says nothing

    @property
    def changed(self) -> bool:
        return any(p.status in ("new", "moved") for p in self.pins) or bool(self.dropped) or self.drops_reason


def plan_pins(loaded: LoadedProfile, resolve: Resolve) -> PinPlan:
    """What the lock of ``loaded`` becomes. ``loaded`` must be read without its lock
    (``load_profile(..., use_lock=False)``), so that the profile's own digests show."""
    path = lock_path(loaded.path)
    old = read_lock(path) or ImageLock(path, {})
    pins: dict[str, Pin] = {}
    for site in image_sites(loaded.profile):
        if site.reference in pins and pins[site.reference].status != "in-profile":
            continue
        if site.digest is not None:
            pins.setdefault(site.reference, Pin(site.reference, "in-profile", site.digest, where=site.shown_path))
            continue
        digest = resolve(site.reference)
        before = old.images.get(site.reference)
        status: Literal["new", "unchanged", "moved"] = "new" if before is None else ("unchanged" if before == digest else "moved")
        pins[site.reference] = Pin(site.reference, status, digest, before if status == "moved" else None, site.shown_path)
    images = {p.reference: p.digest for p in pins.values() if p.status != "in-profile"}
    dropped = tuple(sorted(set(old.images) - set(images)))
    return PinPlan(path, tuple(pins.values()), dropped, lock_text(images), old.unpinned is not None)


def write_lock(plan: PinPlan) -> None:
    """Replace the lock file atomically: a reader sees the old lock or the new one."""
    folder = plan.lock.parent
    try:
        fd, staged = tempfile.mkstemp(prefix=f".{plan.lock.name}.", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(plan.text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(staged, 0o644)
            os.replace(staged, plan.lock)
        except BaseException:
            os.unlink(staged)
            raise
    except OSError as error:
        raise ArtefactError(f"{display_path(plan.lock)}: cannot write the image lock: {error.strerror or error}") from None
