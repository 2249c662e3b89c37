"""Constrained scalar types shared by the profile models.

Each type validates with its own one-line message (``expected …, got …``), which the
loader places after ``file:line:col: field.path:``. Values keep the spelling the user
wrote; the helpers at the bottom convert them for the artefacts that need numbers.
"""

from __future__ import annotations

import ipaddress
import math
import re
import unicodedata
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from .acl import EXPECTED as ACL_EXPECTED, AclRuleError, parse_acl_rules
# Re-exported: finding profiles by name needs these without pydantic.
from .scalars import DNS_LABEL as DNS_LABEL, shown as shown
# URL types refuse userinfo (issue 15): their own module.
from .urls import HTTP_URL as HTTP_URL, HttpUrl as HttpUrl, SourceUrl as SourceUrl

ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
# Units every consumer (Docker, Compose, Prometheus, Kubernetes) reads alike, each at most
# once and largest first: Prometheus refuses "30s1m" and "1m1m", which Go's durations take.
DURATION = r"^([0-9]+h([0-9]+m)?([0-9]+s)?([0-9]+ms)?|[0-9]+m([0-9]+s)?([0-9]+ms)?|[0-9]+s([0-9]+ms)?|[0-9]+ms)$"
#: The largest integer a profile takes, and the most seconds a duration spans: int32, what
#: Kubernetes' integer fields (replicas, *Seconds, failureThreshold, averageUtilization),
#: Redis' int settings (timeout, tcp-keepalive) and runc's uids and gids accept.
INT32_MAX = 2**31 - 1
CPU = r"^([0-9]+m|[0-9]+(\.[0-9]{1,3})?)$"
MEMORY = r"^[0-9]+(Ki|Mi|Gi|Ti|k|M|G|T)?$"
DIGEST = r"^sha256:[0-9a-f]{64}$"
#: Our checks are VRnnn; a plugin's use their own prefix of two to six capitals.
CHECK_ID = r"^[A-Z]{2,6}[0-9]{3}$"
URL_PATH = r"^/[A-Za-z0-9._~/-]*$"
ABS_PATH = r"^/[A-Za-z0-9._/-]*$"
REL_PATH = r"^[A-Za-z0-9._-][A-Za-z0-9._/-]*$"
# The distribution reference grammar: [domain[:port]/]component(/component)*.
_IMAGE_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_DOMAIN = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?"
IMAGE_NAME = rf"^(?:{_IMAGE_DOMAIN}/)?{_IMAGE_COMPONENT}(?:/{_IMAGE_COMPONENT})*$"
IMAGE_TAG = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
#: The shape of a cron schedule for the JSON schema; :func:`_cron` checks each field's range.
CRON = r"^[0-9*/,-]+( +[0-9*/,-]+){2}( +[0-9*/,A-Za-z-]+){2}$"
#: JVM memory sizes as Neo4j reads them: a number and a k, m or g unit.
JVM_SIZE = r"^[0-9]+[kmgKMG]$"
METRIC_NAME = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"
#: A DNS host name: lowercase RFC 1123 labels joined by dots (at most 253 characters).
HOST_NAME = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$"


def _fail(expected: str, value: Any) -> PydanticCustomError:
    return PydanticCustomError("vr", "expected {expected}, got {got}", {"expected": expected, "got": shown(value)})


#: The error type of a string field given a number or boolean, which quoting would fix.
#: The loader words it with the value as spelt in the YAML (``1.30``, not 1.3).
UNQUOTED = "vr_unquoted"


def unquoted_scalar(value: Any) -> bool:
    """A number or boolean where text was expected: what YAML makes of an unquoted 1.30 or true."""
    return isinstance(value, (bool, int, float))


def _unquoted(expected: str, value: Any) -> PydanticCustomError:
    return PydanticCustomError(UNQUOTED, "expected {expected}; write it in quotes, got {got}", {"expected": expected, "got": shown(value)})


def _matching(pattern: str, expected: str, max_length: int | None = None) -> Callable[[Any], str]:
    regex = re.compile(pattern)

    def check(value: Any) -> str:
        if unquoted_scalar(value) and regex.fullmatch(shown(value)):
            raise _unquoted(expected, value)
        if not isinstance(value, str) or not regex.fullmatch(value) or (max_length and len(value) > max_length):
            raise _fail(expected, value)
        return value

    return check


def _int_at_least(low: int, high: int | None = None) -> Callable[[Any], int]:
    expected = f"an integer ≥ {low}" if high is None else f"an integer from {low} to {high}"
    # Unbounded above in the profile's words, yet every consumer stops at int32.
    too_big = expected if high is not None else f"an integer from {low} to {INT32_MAX} (int32, the limit of Kubernetes, Redis and container uids)"

    def check(value: Any) -> int:
        if type(value) is not int or value < low:
            raise _fail(expected, value)
        if value > (INT32_MAX if high is None else high):
            raise _fail(too_big, value)
        return value

    return check


def _positive_number(value: Any) -> float:
    # Finite and within int32, so a multiple of it stays a number, and at most six
    # significant digits: the rules print thresholds with "g", which keeps six.
    if (
        type(value) not in (int, float)
        or not math.isfinite(value)
        or not 0 < value <= INT32_MAX
        or float(format(value, "g")) != value
    ):
        raise _fail(f"a finite number above 0 and at most {INT32_MAX}, with at most six significant digits", value)
    return float(value)


_ANY_UNIT_ORDER = re.compile(r"([0-9]+(ms|s|m|h))+")


_memory_spelling = _matching(MEMORY, 'a memory quantity such as "512Mi" or "4Gi"')


def _memory(value: Any) -> str:
    text = _memory_spelling(value)
    # Compose and Docker read sizes into an int64 of bytes; Redis' maxmemory too.
    if memory_bytes(text) > 2**63 - 1:
        raise _fail("a memory quantity of at most 8Ei (2^63 - 1 bytes)", value)
    return text


def _duration(low: int = 0, whole: bool = False) -> Callable[[Any], str]:
    """A duration of at most INT32_MAX seconds; ``whole`` ones count whole seconds (a
    Kubernetes probe's), and last at least ``low`` seconds."""
    spelling = _matching(DURATION, 'a duration such as "30s", "5m" or "1h30m"')

    def check(value: Any) -> str:
        if isinstance(value, str) and _ANY_UNIT_ORDER.fullmatch(value) and not re.fullmatch(DURATION, value):
            raise _fail('a duration with each unit once, largest first (h, m, s, ms) as Prometheus reads it, such as "1h30m"', value)
        text = spelling(value)
        seconds = duration_seconds(text)
        if seconds > INT32_MAX:
            raise _fail(f"a duration of at most {INT32_MAX}s (int32 seconds, about 68 years)", value)
        if whole and seconds != int(seconds):
            raise _fail("a duration in whole seconds (Kubernetes probes count seconds), such as \"2s\"", value)
        if seconds < low:
            raise _fail(f"a duration of at least {low}s (0 means the default to Docker and Kubernetes)", value)
        return text

    return check


def _ratio(value: Any) -> float:
    if type(value) not in (int, float) or not 0 < value <= 1:
        raise _fail("a ratio in (0, 1]", value)
    return float(value)


def _cpu(value: Any) -> str:
    # YAML reads `cpu: 2` as an int and `cpu: 0.5` as a float; both are valid quantities.
    written = value
    if type(value) is int:
        value = str(value)  # not "g", which writes 1234567 as 1.23457e+06
    elif type(value) is float:
        value = str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if not isinstance(value, str) or not re.fullmatch(CPU, value) or cpu_millis(value) == 0:
        raise _fail('a CPU quantity such as "500m" or "2"', value)
    # Docker counts nano-CPUs in an int64; int32 cores stay far below that.
    if cpu_millis(value) > INT32_MAX * 1000:
        raise _fail(f"a CPU quantity of at most {INT32_MAX} cores", written)
    return value


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
#: Each field of a cron schedule: its name, lowest and highest value, and the names it takes.
_CRON_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day-of-month", 1, 31, {}),
    ("month", 1, 12, {name: number for number, name in enumerate(_MONTHS, 1)}),
    # Kubernetes parses schedules with robfig/cron, whose week runs 0-6: a 7 for Sunday is refused.
    ("day-of-week", 0, 6, {name: number for number, name in enumerate(_DAYS)}),
)
#: The @-schedules robfig/cron also takes, and the five fields each stands for.
_CRON_MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
                "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
_CRON_ITEM = re.compile(r"(?P<base>\*|(?P<low>[0-9A-Za-z]+)(?:-(?P<high>[0-9A-Za-z]+))?)(?:/(?P<step>[^/]*))?")


def _cron(value: Any) -> str:
    """A five-field cron schedule as Kubernetes CronJobs read it, each field in its range."""
    if not isinstance(value, str):
        raise _fail('a cron schedule of five fields such as "0 3 * * *"', value)
    if not re.fullmatch(r"[^\s]*( +[^\s]+)*", value):
        raise _fail("a cron schedule of five fields separated by spaces, on one line", value)
    fields = value.split()
    if fields and fields[0].startswith("@"):
        spelt = _CRON_MACROS.get(fields[0].lower())
        hint = f'; write "{spelt}"' if spelt and len(fields) == 1 else ""
        raise PydanticCustomError(
            "vr",
            "expected a cron schedule of five fields (minute hour day-of-month month day-of-week), got {got}{hint}",
            {"got": shown(value), "hint": hint},
        )
    if len(fields) != len(_CRON_FIELDS):
        raise PydanticCustomError(
            "vr",
            "expected a cron schedule of five fields (minute hour day-of-month month day-of-week), got {n} in {got}",
            {"n": len(fields), "got": shown(value)},
        )
    for number, (text, (name, low, high, names)) in enumerate(zip(fields, _CRON_FIELDS), 1):
        allowed = f"{low}-{high}" + (f" or {next(iter(names))}-{list(names)[-1]}" if names else "")

        def fail(message: str, **ctx: Any) -> PydanticCustomError:
            return PydanticCustomError(
                "vr",
                "cron field {number} ({name})" + message + " in {got}",
                {"number": number, "name": name, "allowed": allowed, "got": shown(value), **ctx},
            )

        def amount(part: str) -> int:
            # ASCII digits only: str.isdigit also takes "²" and "٣", which no cron reads.
            digits = part.isascii() and part.isdigit()
            known = int(part) if digits else names.get(part.lower())
            if known is None or not low <= known <= high:
                sunday = " (Kubernetes counts Sunday as 0, not 7)" if digits and name == "day-of-week" and known == 7 else ""
                raise fail(" must lie in {allowed}, got {part}" + sunday, part=part if digits else shown(part))
            return known

        for item in text.split(","):
            match = _CRON_ITEM.fullmatch(item)
            # A step needs a range to step through: */n or a-b/n, never a lone a/n.
            if match is None or (match["step"] is not None and match["low"] is not None and match["high"] is None):
                raise fail(": {item} is not a value, a range a-b, */n or a-b/n (allowed {allowed})", item=shown(item))
            if match["low"] is not None:
                first = amount(match["low"])
                if match["high"] is not None and amount(match["high"]) < first:
                    raise fail(": the range {item} runs backwards; write low-high within {allowed}", item=match["base"])
            step = match["step"]
            if step is not None:
                if not re.fullmatch("[0-9]+", step):
                    raise fail(": the step /{step} must be a whole number", step=step)
                if int(step) == 0:
                    raise fail(": the step /{step} must be at least 1", step=step)
                if int(step) > high - low + 1:
                    raise fail(": the step /{step} is longer than the field's {span} values", step=step, span=high - low + 1)
    return value


_HOST_EXPECTED = "a host name like kg.example, without scheme, path or port"
_HOST_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def _host_problem(value: str) -> str | None:
    """What keeps ``value`` from being a DNS host name, as "got …" text; None when it is one."""
    if not value:
        return "got an empty string"
    if "\n" in value or "\r" in value:
        return f"got a line break in {shown(value)}"
    if any(unicodedata.category(c) == "Cc" for c in value):
        return f"got control characters in {shown(value)}"
    if "://" in value:
        try:
            host = urlsplit(value).hostname or ""
        except ValueError:  # a malformed URL, such as an unclosed [IPv6 literal
            host = ""
        return f"got a URL {shown(value)}" + _host_hint(host)
    if any(c.isspace() for c in value):
        return f"got a space in {shown(value)}"
    try:
        ipaddress.ip_address(value)
    except ValueError:
        pass
    else:
        return f"got the IP address {shown(value)}; an Ingress host must be a DNS name"
    for mark, what in (("@", "a user name"), ("/", "a path"), (":", "a port")):
        if mark in value:
            host = value.rpartition("@")[2] if mark == "@" else value
            return f"got {what} in {shown(value)}" + _host_hint(re.split(r"[/:]", host)[0])
    if value.endswith(".") and not value.endswith(".."):
        return f"got a trailing dot in {shown(value)}" + _host_hint(value[:-1])
    if "" in value.split("."):
        return f"got an empty label in {shown(value)}"
    if value != value.lower():
        return f"got capital letters in {shown(value)}" + _host_hint(value.lower())
    for label in value.split("."):
        if len(label) > 63:
            return f"got the label {shown(label)}, which is longer than 63 characters"
        if not _HOST_LABEL.fullmatch(label):
            return f"got the label {shown(label)}, which is not lowercase letters, digits and inner hyphens"
    if len(value) > 253:
        return f"got a name of {len(value)} characters; at most 253"
    return None


def _host_hint(candidate: str) -> str:
    return f" (write {candidate})" if candidate and _host_problem(candidate) is None else ""


def _host_name(value: Any) -> str:
    problem = _host_problem(value) if isinstance(value, str) else f"got {shown(value)}"
    if problem is not None or not isinstance(value, str):
        raise PydanticCustomError("vr", "expected {expected}; {problem}", {"expected": _HOST_EXPECTED, "problem": problem})
    return value


def _env_value(value: Any) -> str:
    if unquoted_scalar(value):
        raise _unquoted("a string", value)
    if value is None:
        raise PydanticCustomError("vr", 'expected a string, got nothing (null); write "" for an empty value', {})
    if not isinstance(value, str):
        raise _fail("a string", value)
    if "\x00" in value:
        raise PydanticCustomError("vr", "environment values cannot contain NUL characters", {})
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise PydanticCustomError("vr", "environment values must be valid Unicode (no lone surrogates)", {})
    return value


def _text(value: Any) -> str:
    if unquoted_scalar(value):
        raise _unquoted("a string", value)
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
Duration = Annotated[str, BeforeValidator(_duration()), _schema(type="string", pattern=DURATION)]
#: A probe's start period: whole seconds, as Kubernetes counts them.
WholeSeconds = Annotated[str, BeforeValidator(_duration(whole=True)), _schema(type="string", pattern=DURATION)]
#: A probe's interval or timeout (a Kubernetes periodSeconds, timeoutSeconds): whole seconds, at least 1.
PositiveSeconds = Annotated[str, BeforeValidator(_duration(1, whole=True)), _schema(type="string", pattern=DURATION)]
MemoryQuantity = Annotated[str, BeforeValidator(_memory), _schema(type="string", pattern=MEMORY)]
Digest = _pattern(DIGEST, "an image digest (sha256: and 64 hex digits)")
CheckId = _pattern(CHECK_ID, "a check ID such as VR312 (two to six capitals and three digits)")
UrlPath = _pattern(URL_PATH, "an absolute URL path of letters, digits and . _ ~ / - (e.g. /health)")
AbsPath = _pattern(ABS_PATH, "an absolute path of letters, digits and . _ / - (e.g. /data)")
RelPath = _pattern(REL_PATH, "a relative path of letters, digits and . _ / - (e.g. ../../../backend)")
ImageName = _pattern(IMAGE_NAME, "an image repository such as ghcr.io/vitalyst/backend (lowercase)")
ImageTag = _pattern(IMAGE_TAG, "an image tag (letters, digits, _ . -, at most 128)")
JvmSize = _pattern(JVM_SIZE, 'a JVM memory size such as "512m" or "3g"')
MetricName = _pattern(METRIC_NAME, "a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)")
EnvValue = Annotated[str, BeforeValidator(_env_value), _schema(type="string")]
CronSchedule = Annotated[str, BeforeValidator(_cron), _schema(type="string", pattern=CRON)]
HostName = Annotated[str, BeforeValidator(_host_name), _schema(type="string", pattern=HOST_NAME, maxLength=253)]
Text = Annotated[str, BeforeValidator(_text), _schema(type="string")]
CpuQuantity = Annotated[
    str,
    BeforeValidator(_cpu),
    _schema(anyOf=[{"type": "string", "pattern": CPU}, {"type": "number", "exclusiveMinimum": 0, "maximum": INT32_MAX}]),
]
Ratio = Annotated[float, BeforeValidator(_ratio), _schema(type="number", exclusiveMinimum=0, maximum=1)]
Port = Annotated[int, BeforeValidator(_int_at_least(1, 65535)), _schema(type="integer", minimum=1, maximum=65535)]
#: A positive number a rule compares with (a latency, a rate): finite, within int32.
PositiveNumber = Annotated[
    float, BeforeValidator(_positive_number), _schema(type="number", exclusiveMinimum=0, maximum=INT32_MAX)
]
Cidr = Annotated[str, BeforeValidator(_cidr), _schema(type="string", pattern=CIDR)]
Uid = Annotated[int, BeforeValidator(_int_at_least(10000, INT32_MAX)), _schema(type="integer", minimum=10000, maximum=INT32_MAX)]


def _one_line(what: str) -> Callable[[Any], str]:
    """One line of text: names, versions, descriptions that land in labels and headers."""

    def check(value: Any) -> str:
        if unquoted_scalar(value):
            raise _unquoted(what, value)
        if not isinstance(value, str) or not value.strip() or any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value):
            raise _fail(f"{what} (one line, no control characters)", value)
        return value

    return check


Count = Annotated[int, BeforeValidator(_int_at_least(0)), _schema(type="integer", minimum=0, maximum=INT32_MAX)]
PositiveInt = Annotated[int, BeforeValidator(_int_at_least(1)), _schema(type="integer", minimum=1, maximum=INT32_MAX)]
Description = Annotated[str, BeforeValidator(_one_line("a description")), _schema(type="string", minLength=1)]
VersionText = Annotated[str, BeforeValidator(_one_line("a version string")), _schema(type="string", minLength=1)]
VendorName = Annotated[str, BeforeValidator(_one_line("a vendor name")), _schema(type="string", minLength=1)]
LicenseExpression = Annotated[str, BeforeValidator(_one_line("an SPDX license expression")), _schema(type="string", minLength=1)]
Reason = Annotated[str, BeforeValidator(_one_line("a reason")), _schema(type="string", minLength=1)]
WrittenReason = Annotated[str, BeforeValidator(_one_line("a written reason")), _schema(type="string", minLength=1)]


def _acl_rules(value: Any) -> str:
    """One line of Redis ACL rules, each one our model allows (see :mod:`.acl`)."""
    text = _one_line("ACL rules")(value)
    try:
        parse_acl_rules(text)
    except AclRuleError as problem:
        raise PydanticCustomError("vr", "expected {expected}; {problem}", {"expected": ACL_EXPECTED, "problem": str(problem)}) from None
    return text


AclRules = Annotated[str, BeforeValidator(_acl_rules), _schema(type="string", minLength=1)]


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
