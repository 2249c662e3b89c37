"""URL- and address-valued profile types: none of them may carry a user name or password.

A URL field reaches OCI labels, alert annotations, the runbook and Grafana as written,
so a credential in its userinfo would be published with them. Each type refuses
userinfo with a message that quotes the value with the userinfo masked
(``https://***@host/...``): the error never repeats the credential it refuses.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from ..credentials import masked
from .scalars import shown

#: An absolute http(s) URL whose authority (up to the first / ? or #) holds no ``@``.
HTTP_URL = r"^https?://[A-Za-z0-9._~:!&'()*+,;=%\[\]-]+([/?#][A-Za-z0-9._~:/?#@!&'()*+,;=%-]*)?$"
_HOST_LABEL = r"[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?"
#: host:port as Prometheus static targets take it: a DNS name, an IPv4 address or a
#: bracketed IPv6 address, and a port; no scheme, no path, no user name or password.
SCRAPE_TARGET = rf"^({_HOST_LABEL}(\.{_HOST_LABEL})*|\[[0-9A-Fa-f:.]+\]):[0-9]{{1,5}}$"
_USERINFO = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*@")


def _refused(expected: str, got: str) -> PydanticCustomError:
    return PydanticCustomError("vr", "expected {expected}, got {got}", {"expected": expected, "got": got})


def _userinfo(expected: str, hidden: str) -> PydanticCustomError:
    """``hidden``: the value with its user name and password masked."""
    return _refused(
        expected, f"a user name or password in {shown(hidden)}; keep credentials in a declared secret, never in a URL"
    )


def _http_url(expected: str) -> Callable[[Any], str]:
    expected = f"{expected} without a user name or password"

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise _refused(expected, shown(value))
        if _USERINFO.match(value):
            raise _userinfo(expected, masked(value))
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError on a port out of range
        except ValueError:
            raise _refused(expected, shown(masked(value))) from None
        if not re.fullmatch(HTTP_URL, value) or not parts.hostname:
            raise _refused(expected, shown(masked(value)))
        return value

    return check


def _scrape_target(value: Any) -> str:
    expected = "host:port (a host name or IP address and a port, without scheme, path, user name or password)"
    if not isinstance(value, str):
        raise _refused(expected, shown(value))
    if _USERINFO.match(value) or "@" in value:
        head, _, host = value.rpartition("@")
        raise _userinfo(expected, (head.partition("://")[0] + "://" if "://" in head else "") + "***@" + host)
    if "://" in value:
        raise _refused(expected, f"a scheme in {shown(value)}")
    host, colon, port = value.rpartition(":")
    if not colon or (host.startswith("[") and not host.endswith("]")) or (":" in host and not host.startswith("[")):
        raise _refused(expected, f"no port in {shown(value)}")
    if not re.fullmatch("[0-9]{1,5}", port):
        what = "a path" if "/" in port else "the port"
        raise _refused(expected, f"{what} {shown(port)} in {shown(value)}")
    if not 1 <= int(port) <= 65535:
        raise _refused(expected, f"the port {port} in {shown(value)}; a port is 1-65535")
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise _refused(expected, f"the IPv6 address {shown(host)} in {shown(value)}") from None
    elif not re.fullmatch(SCRAPE_TARGET, value) or len(host) > 253:
        raise _refused(expected, f"a host name {shown(host)} that is not letters, digits, '-', '_' and dots")
    return value


def _url_type(expected: str) -> Any:
    return Annotated[str, BeforeValidator(_http_url(expected)), WithJsonSchema({"type": "string", "pattern": HTTP_URL})]


HttpUrl = _url_type("an http(s) URL without spaces, quotes or braces")
SourceUrl = _url_type("a source repository URL (such as https://github.com/org/repo)")
ScrapeTarget = Annotated[str, BeforeValidator(_scrape_target), WithJsonSchema({"type": "string", "pattern": SCRAPE_TARGET})]
