"""Profile fields that look like free text but are names some artefact reads by rule:
Kubernetes label values and Linux capability names. Each type says what it expected in
one line, as the types in :mod:`.types` do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from .scalars import shown

#: A Kubernetes label value (at most 63 characters; the API server refuses any other).
LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
_LABEL_RULE = "at most 63 letters, digits, '-', '_' and '.', beginning and ending with a letter or digit"

#: The kernel's capabilities (linux/capability.h, 0 to 40), as Kubernetes names them: without
#: the CAP_ prefix, in capitals. Compose takes the same names.
CAPABILITIES = (
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
    "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
    "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
    "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
    "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
    "CHECKPOINT_RESTORE",
)
_CAPABILITY_EXPECTED = "ALL or a Linux capability name without CAP_, such as NET_RAW"


def _error(expected: str, problem: str) -> PydanticCustomError:
    return PydanticCustomError("vr", "expected {expected}; {problem}", {"expected": expected, "problem": problem})


def _label_value(what: str) -> Callable[[Any], str]:
    expected = f"{what} that is a Kubernetes label value ({_LABEL_RULE})"

    def check(value: Any) -> str:
        if isinstance(value, (bool, int, float)):
            # The loader words this one: quote it, in the spelling of the file.
            raise PydanticCustomError("vr_unquoted", "expected {expected}; write it in quotes, got {got}", {"expected": what, "got": shown(value)})
        if not isinstance(value, str):
            raise _error(expected, f"got {shown(value)}")
        if not value:
            raise _error(expected, "got an empty string")
        if len(value) > 63:
            raise _error(expected, f"got {len(value)} characters in {shown(value)}")
        if not re.fullmatch(LABEL_VALUE, value):
            bad = sorted({c for c in value if not (c.isascii() and (c.isalnum() or c in "-_."))})
            found = f"the characters {shown(''.join(bad))}" if bad else "a first or last character that is not a letter or digit"
            raise _error(expected, f"got {found} in {shown(value)}")
        return value

    return check


def _capability(value: Any) -> str:
    if not isinstance(value, str):
        raise _error(_CAPABILITY_EXPECTED, f"got {shown(value)}")
    name = value.upper()
    bare = name[4:] if name.startswith("CAP_") else name
    if bare in CAPABILITIES or bare == "ALL":
        if value == bare:
            return value
        # The CRI runtimes prefix CAP_ themselves (CAP_CHOWN becomes CAP_CAP_CHOWN, and the container
        # does not start), and Pod Security Admission wants "ALL" in capitals.
        raise _error(_CAPABILITY_EXPECTED, f"got {shown(value)} (write {bare}, as Kubernetes names it)")
    raise _error(_CAPABILITY_EXPECTED, f"got {shown(value)}, which is no capability of the Linux kernel")


def label_value(what: str) -> Any:
    """A string type for a profile value that lands in a Kubernetes label (``what`` names it in errors)."""
    schema = {"type": "string", "pattern": LABEL_VALUE, "minLength": 1, "maxLength": 63}
    return Annotated[str, BeforeValidator(_label_value(what)), WithJsonSchema(schema)]


#: ``project.version``: the ``app.kubernetes.io/version`` label of every object.
VersionLabel = label_value("a version string")
Capability = Annotated[str, BeforeValidator(_capability), WithJsonSchema({"type": "string", "enum": ["ALL", *CAPABILITIES]})]


#: A service name as every artefact reads it: a Kubernetes Service name is a DNS-1035 label
#: (a letter first), and names made from it must fit too. The longest is a backup CronJob,
#: ``<name>-backup``, whose name may hold 52 characters (its Jobs append 11).
SERVICE_NAME = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
SERVICE_NAME_MAX = 52 - len("-backup")
_SERVICE_EXPECTED = (
    f"a service name: lowercase letters, digits and inner '-', a letter first, at most {SERVICE_NAME_MAX} characters"
)


def _service_name(value: Any) -> str:
    if not isinstance(value, str):
        raise _error(_SERVICE_EXPECTED, f"got {shown(value)}")
    if len(value) > SERVICE_NAME_MAX:
        raise _error(_SERVICE_EXPECTED, f"got {len(value)} characters (names made from it, such as <name>-backup, "
                     "would be longer than Kubernetes takes)")
    if not re.fullmatch(SERVICE_NAME, value):
        first = value[:1]
        why = (f"got {shown(value)}, which begins with {shown(first)}; a Kubernetes Service name begins with a letter"
               if first and re.fullmatch(r"[-a-z0-9]([-a-z0-9]*[a-z0-9])?", value) else f"got {shown(value)}")
        raise _error(_SERVICE_EXPECTED, why)
    return value


ServiceName = Annotated[
    str, BeforeValidator(_service_name),
    WithJsonSchema({"type": "string", "pattern": SERVICE_NAME, "minLength": 1, "maxLength": SERVICE_NAME_MAX}),
]
