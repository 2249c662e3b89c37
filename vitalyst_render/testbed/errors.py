"""What the testbed raises: one line each, never a traceback at the CLI."""

from __future__ import annotations


class TestbedError(Exception):
    """Something the testbed tried failed (a daemon would not start, a build broke)."""

    __test__ = False  # not a pytest test class, whatever its name says


class TestbedUnavailable(TestbedError):
    """This machine cannot run the testbed at all (not root, no dockerd, no cgroups)."""
