"""Constrained scalar types shared by the profile models.

Each type validates with its own one-line message (``expected …, got …``), which the
loader places after ``file:line:col: field.path:``. Values keep the spelling the user
wrote; the helpers at the bottom convert them for the artefacts that need numbers.
"""

from __future__ import annotations

import ipaddress
import json
import re
import unicodedata
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
# Units every consumer (Docker, Compose, Prometheus, Kubernetes) reads alike.
DURATION = r"^([0-9]+(ms|s|m|h))+$"
CPU = r"^([0-9]+m|[0-9]+(\.[0-9]{1,3})?)$"
MEMORY = r"^[0-9]+(Ki|Mi|Gi|Ti|k|M|G|T)?$"
DIGEST = r"^sha256:[0-9a-f]{64}$"
#: Our checks are VRnnn; a plugin's use their own prefix of two to six capitals.
CHECK_ID = r"^[A-Z]{2,6}[0-9]{3}$"
URL_PATH = r"^/[A-Za-z0-9._~/-]*$"
ABS_PATH = r"^/[A-Za-z0-9._/-]*$"
REL_PATH = r"^[A-Za-z0-9._-][A-Za-z0-9._/-]*$"
HTTP_URL = r"^https?://[A-Za-z0-9._~:/?#@!&'()*+,;=%-]+$"
# The distribution reference grammar: [domain[:port]/]component(/component)*.
_IMAGE_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_DOMAIN = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?"
IMAGE_NAME = rf"^(?:{_IMAGE_DOMAIN}/)?{_IMAGE_COMPONENT}(?:/{_IMAGE_COMPONENT})*$"
IMAGE_TAG = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
CRON = r"^([0-9*/,-]+ ){4}[0-9*/,A-Za-z-]+$"
#: JVM memory sizes as Neo4j reads them: a number and a k, m or g unit.
JVM_SIZE = r"^[0-9]+[kmgKMG]$"
METRIC_NAME = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"


def shown(value: Any) -> str:
    """How an offending input appears in an error message."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _fail(expected: str, value: Any) -> PydanticCustomError:
    return PydanticCustomError("vr", "expected {expected}, got {got}", {"expected": expected, "got": shown(value)})


def _matching(pattern: str, expected: str, max_length: int | None = None) -> Callable[[Any], str]:
    regex = re.compile(pattern)

    def check(value: Any) -> str:
        if not isinstance(value, str) or not regex.fullmatch(value) or (max_length and len(value) > max_length):
            raise _fail(expected, value)
        return value

    return check


def _int_at_least(low: int, high: int | None = None) -> Callable[[Any], int]:
    expected = f"an integer ≥ {low}" if high is None else f"an integer from {low} to {high}"

    def check(value: Any) -> int:
        if type(value) is not int or value < low or (high is not None and value > high):
            raise _fail(expected, value)
        return value

    return check


def _ratio(value: Any) -> float:
    if type(value) not in (int, float) or not 0 < value <= 1:
        raise _fail("a ratio in (0, 1]", value)
    return float(value)


def _cpu(value: Any) -> str:
    # YAML reads `cpu: 2` as an int and `cpu: 0.5` as a float; both are valid quantities.
    if type(value) in (int, float):
        value = format(value, "g")
    if not isinstance(value, str) or not re.fullmatch(CPU, value) or cpu_millis(value) == 0:
        raise _fail('a CPU quantity such as "500m" or "2"', value)
    return value


def _env_value(value: Any) -> str:
    if not isinstance(value, str):
        hint = " (quote it in YAML)" if isinstance(value, (int, float, bool)) or value is None else ""
        raise PydanticCustomError("vr", "expected a string{hint}, got {got}", {"hint": hint, "got": shown(value)})
    if "\x00" in value:
        raise PydanticCustomError("vr", "environment values cannot contain NUL characters", {})
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise PydanticCustomError("vr", "environment values must be valid Unicode (no lone surrogates)", {})
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise _fail("a string", value)
    return value


#: An IPv4 network in CIDR form with no host bits set (10.0.0.0/8, 192.0.2.10/32).
CIDR = r"^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$"


def _cidr(value: Any) -> str:
    try:
        if not isinstance(value, str) or not re.fullmatch(CIDR, value):
            raise ValueError(value)
        return str(ipaddress.IPv4Network(value, strict=True))
    except ValueError:
        raise _fail('an IPv4 network such as "10.0.0.0/8" or "192.0.2.10/32" (no host bits set)', value) from None


def _schema(**schema: Any) -> WithJsonSchema:
    return WithJsonSchema(schema)


def _pattern(pattern: str, expected: str, max_length: int | None = None) -> Any:
    """A string type checked against ``pattern``, with its own error and JSON schema."""
    schema: dict[str, Any] = {"type": "string", "pattern": pattern}
    if max_length:
        schema["maxLength"] = max_length
    return Annotated[str, BeforeValidator(_matching(pattern, expected, max_length)), WithJsonSchema(schema)]


DnsLabel = _pattern(DNS_LABEL, "a DNS-1123 label (lowercase letters, digits and '-', at most 63)", 63)
EnvName = _pattern(ENV_NAME, "an environment variable name ([A-Za-z_][A-Za-z0-9_]*)")
Duration = _pattern(DURATION, 'a duration such as "30s", "5m" or "1h30m"')
MemoryQuantity = _pattern(MEMORY, 'a memory quantity such as "512Mi" or "4Gi"')
Digest = _pattern(DIGEST, "an image digest (sha256: and 64 hex digits)")
CheckId = _pattern(CHECK_ID, "a check ID such as VR312 (two to six capitals and three digits)")
UrlPath = _pattern(URL_PATH, "an absolute URL path of letters, digits and . _ ~ / - (e.g. /health)")
AbsPath = _pattern(ABS_PATH, "an absolute path of letters, digits and . _ / - (e.g. /data)")
RelPath = _pattern(REL_PATH, "a relative path of letters, digits and . _ / - (e.g. ../../../backend)")
HttpUrl = _pattern(HTTP_URL, "an http(s) URL without spaces, quotes or braces")
ImageName = _pattern(IMAGE_NAME, "an image repository such as ghcr.io/vitalyst/backend (lowercase)")
ImageTag = _pattern(IMAGE_TAG, "an image tag (letters, digits, _ . -, at most 128)")
CronSchedule = _pattern(CRON, 'a cron schedule of five fields, e.g. "0 3 * * *"')
JvmSize = _pattern(JVM_SIZE, 'a JVM memory size such as "512m" or "3g"')
MetricName = _pattern(METRIC_NAME, "a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)")
EnvValue = Annotated[str, BeforeValidator(_env_value), _schema(type="string")]
Text = Annotated[str, BeforeValidator(_text), _schema(type="string")]
CpuQuantity = Annotated[
    str, BeforeValidator(_cpu), _schema(anyOf=[{"type": "string", "pattern": CPU}, {"type": "number", "exclusiveMinimum": 0}])
]
Ratio = Annotated[float, BeforeValidator(_ratio), _schema(type="number", exclusiveMinimum=0, maximum=1)]
Port = Annotated[int, BeforeValidator(_int_at_least(1, 65535)), _schema(type="integer", minimum=1, maximum=65535)]
Cidr = Annotated[str, BeforeValidator(_cidr), _schema(type="string", pattern=CIDR)]
Uid = Annotated[int, BeforeValidator(_int_at_least(10000, 2**31 - 1)), _schema(type="integer", minimum=10000)]


def _one_line(what: str) -> Callable[[Any], str]:
    """One line of text: names, versions, descriptions that land in labels and headers."""

    def check(value: Any) -> str:
        if not isinstance(value, str) or not value.strip() or any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value):
            raise _fail(f"{what} (one line, no control characters)", value)
        return value

    return check


Count = Annotated[int, BeforeValidator(_int_at_least(0)), _schema(type="integer", minimum=0)]
PositiveInt = Annotated[int, BeforeValidator(_int_at_least(1)), _schema(type="integer", minimum=1)]
Description = Annotated[str, BeforeValidator(_one_line("a description")), _schema(type="string", minLength=1)]
VersionText = Annotated[str, BeforeValidator(_one_line("a version string")), _schema(type="string", minLength=1)]
VendorName = Annotated[str, BeforeValidator(_one_line("a vendor name")), _schema(type="string", minLength=1)]
SourceUrl = Annotated[str, BeforeValidator(_one_line("a source URL")), _schema(type="string", minLength=1)]
LicenseExpression = Annotated[str, BeforeValidator(_one_line("an SPDX license expression")), _schema(type="string", minLength=1)]
Reason = Annotated[str, BeforeValidator(_one_line("a reason")), _schema(type="string", minLength=1)]
WrittenReason = Annotated[str, BeforeValidator(_one_line("a written reason")), _schema(type="string", minLength=1)]
AclRules = Annotated[str, BeforeValidator(_one_line("ACL rules")), _schema(type="string", minLength=1)]


# -- conversions used by templates ---------------------------------------------------

_DURATION_PART = re.compile(r"([0-9]+)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
_MEMORY_FACTOR = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def duration_seconds(duration: str) -> float:
    return sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART.findall(duration))


def cpu_millis(cpu: str) -> int:
    if cpu.endswith("m"):
        return int(cpu[:-1])
    whole, _, fraction = cpu.partition(".")
    return int(whole) * 1000 + int((fraction + "000")[:3])


def jvm_bytes(size: str) -> int:
    """Bytes of a JVM size ("3g" → 3 GiB): Neo4j reads k, m and g as binary units."""
    return int(size[:-1]) * {"k": 2**10, "m": 2**20, "g": 2**30}[size[-1].lower()]


def memory_bytes(memory: str) -> int:
    number, unit = re.match(r"^([0-9]+)([A-Za-z]*)$", memory).groups()  # type: ignore[union-attr]
    return int(number) * _MEMORY_FACTOR[unit]
