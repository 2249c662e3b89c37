"""A live testbed: a private Docker engine, single-node swarm and local registry.

It proves rendered artefacts on a real engine (issue 10): build the rendered
Dockerfiles against stand-in bases, deploy the rendered stack, and try every property
the stack claims. ``render testbed up|down|status`` drives it from the shell.
"""

from .engine import DEBIAN_CLI, Testbed, state_dir, unavailable_reason
from .errors import TestbedError, TestbedUnavailable
from .standins import STANDINS, PushedImage, StandIn, build, ensure_standins

__all__ = [
    "DEBIAN_CLI",
    "STANDINS",
    "PushedImage",
    "StandIn",
    "Testbed",
    "TestbedError",
    "TestbedUnavailable",
    "build",
    "ensure_standins",
    "state_dir",
    "unavailable_reason",
]
