"""Profiles: typed models and the position-keeping loader."""

from .loader import LoadedProfile, load_profile, profile_names
from .models import Profile

__all__ = ["LoadedProfile", "Profile", "load_profile", "profile_names"]
