"""Values whose rendered form would switch a safety off, refused where they are written.

Several artefacts read 0 as "no limit", "disabled" or "use the default": Docker and
Compose run a container with a memory limit of 0 unlimited, Redis reads ``maxmemory 0``
as no limit, Prometheus reads a scrape or evaluation interval of 0 as its default, a
Kubernetes probe's ``periodSeconds`` of 0 is its default 10s, and Docker reads a health
check timeout of 0 as its default 30s. A profile value that renders to such a 0 passes
every check, so these types refuse it with the reason (a probe's timings, whole seconds
of at least 1s, are :data:`.types.PositiveSeconds`). Where 0 is a meaning the user may want, the field's description says
so instead (``(0s: none)``), and the value is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from .types import DURATION, INT32_MAX, JVM_SIZE, MEMORY, _duration, _matching, _memory, duration_seconds, jvm_bytes, memory_bytes, shown

#: JSON-schema patterns: the type's pattern with at least one non-zero digit.
_NONZERO = r"(?=[^1-9]*[1-9])"
MEMORY_ABOVE_ZERO = "^" + _NONZERO + MEMORY[1:]
DURATION_ABOVE_ZERO = "^" + _NONZERO + DURATION[1:]
JVM_SIZE_ABOVE_ZERO = "^" + _NONZERO + JVM_SIZE[1:]


def _at_least(
    base: Callable[[Any], str], what: str, amount: Callable[[str], float], least: float, least_text: str, why: str
) -> Callable[[Any], str]:
    """``base``'s type (``what``: "a duration such as …", its bounds above included), refusing an
    amount below ``least`` and saying why."""
    matching = base
    noun = what.partition(" such as ")[0]

    def check(value: Any) -> str:
        if value == 0 and type(value) is int:  # an unquoted 0: no quotes make it a limit
            text = "0"
        else:
            text = matching(value)
        if amount(text) < least:
            raise PydanticCustomError(
                "vr", "expected {noun} of at least {least} ({why}), got {got}",
                {"noun": noun, "least": least_text, "why": why, "got": shown(value)},
            )
        return text

    return check


def _jvm_amount(text: str) -> float:
    return jvm_bytes(text) if text != "0" else 0


def memory_size(why: str) -> Any:
    """A memory quantity above 0 bytes."""
    check = _at_least(_memory, 'a memory quantity such as "512Mi" or "4Gi"', memory_bytes, 1, "1 byte", why)
    return Annotated[str, BeforeValidator(check), WithJsonSchema({"type": "string", "pattern": MEMORY_ABOVE_ZERO})]


def duration_at_least(seconds: float, why: str) -> Any:
    """A duration of at least ``seconds`` (above 0 when ``seconds`` is 0.001)."""
    least = f"{seconds:g}s" if seconds >= 1 else f"{seconds * 1000:g}ms"
    check = _at_least(_duration(), 'a duration such as "30s", "5m" or "1h30m"', duration_seconds, seconds, least, why)
    return Annotated[str, BeforeValidator(check), WithJsonSchema({"type": "string", "pattern": DURATION_ABOVE_ZERO})]


def _positive(why: str) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if type(value) is not int or value < 1:
            raise PydanticCustomError("vr", "expected an integer ≥ 1 ({why}), got {got}", {"why": why, "got": shown(value)})
        if value > INT32_MAX:
            raise PydanticCustomError("vr", "expected an integer from 1 to {high} (int32, the limit of Redis' int settings), got {got}",
                                      {"high": INT32_MAX, "got": shown(value)})
        return value

    return check


# -- the types, each with the reason 0 is refused -------------------------------------------

#: Container memory (limits and requests): Docker and Compose read 0 as no limit.
MemoryLimit = memory_size("Docker and Compose read a memory limit of 0 as no limit")
#: Volume sizes: a claim of 0 bytes holds nothing.
VolumeSize = memory_size("a volume of 0 bytes holds nothing")
_JVM_SIZE = 'a JVM memory size such as "512m" or "3g"'
#: Neo4j heap and page cache: at least 1k; "0g" is no heap or cache at all.
Neo4jSize = Annotated[
    str,
    BeforeValidator(_at_least(_matching(JVM_SIZE, _JVM_SIZE), _JVM_SIZE, _jvm_amount, 1, "1k", "a heap or page cache of 0 holds nothing")),
    WithJsonSchema({"type": "string", "pattern": JVM_SIZE_ABOVE_ZERO}),
]
#: Prometheus scrape and evaluation intervals: 0 is Prometheus's default (1m).
PrometheusInterval = duration_at_least(0.001, "Prometheus reads an interval of 0 as its default 1m")
#: A PromQL range: a window of 0 holds no sample, so its alert never fires.
AlertWindow = duration_at_least(0.001, "a window of 0 holds no sample, so the alert could never fire")
#: Lateness of a backup: BackupLate compares whole seconds; 0 fires it from the first second.
LatenessDuration = duration_at_least(1, "BackupLate counts whole seconds; under 1s it fires as soon as a backup ends")
#: Redis tcp-keepalive: 0 turns keepalive off, and dead clients then hold their connections.
KeepaliveSeconds = Annotated[
    int, BeforeValidator(_positive("0 turns TCP keepalive off")), WithJsonSchema({"type": "integer", "minimum": 1, "maximum": INT32_MAX})
]


def maxmemory_problem(ratio: float, limit: str, maxmemory: int) -> tuple[tuple[str, ...], str] | None:
    """Where and why a Redis ``maxmemory`` of ``ratio`` × ``limit`` (in whole bytes) would switch its
    limit off, or None. It blames the ratio when it is below 1%, else the limit (either may
    be inherited: the one that is out of the ordinary is the one to fix)."""
    if maxmemory > 0:
        return None
    path = ("config", "maxmemory_ratio") if ratio < 0.01 else ("resources", "limits", "memory")
    return path, (
        f"maxmemory_ratio {ratio:g} of the {limit} memory limit rounds to maxmemory 0, which Redis reads as no limit; "
        "expected a ratio and resources.limits.memory that give at least 1 byte"
    )
