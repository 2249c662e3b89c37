"""Profiles: typed models and the position-keeping loader."""

from .files import profile_names
from .loader import LoadedProfile, load_profile
from .models import Profile

__all__ = ["LoadedProfile", "Profile", "load_profile", "profile_names"]
