"""Profiles: typed models and the position-keeping loader."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .files import profile_names
    from .loader import LoadedProfile, load_profile
    from .models import Profile
else:
    # Finding profiles (.files) must not load the models: nothing here imports them until used.
    __getattr__, __dir__ = lazy_exports(__name__, {
        "LoadedProfile": ".loader",
        "Profile": ".models",
        "load_profile": ".loader",
        "profile_names": ".files",
    })

__all__ = ["LoadedProfile", "Profile", "load_profile", "profile_names"]
