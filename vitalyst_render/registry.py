"""Image tags to digests, through a registry's HTTP API (the OCI distribution spec).

Two calls, stdlib only:

* :func:`resolve` asks the registry which manifest a tag points at now and returns its
  digest (``repo:tag`` -> ``sha256:...``);
* :func:`exists` asks whether the registry still has a pinned manifest
  (``repo[:tag]@sha256:...`` -> ``True``, or ``False`` when it answers 404).

References read as docker reads them: ``redis`` is ``registry-1.docker.io`` /
``library/redis``; the first path component is a registry host when it has a dot or a
colon or is ``localhost`` (``ghcr.io/x/y``, ``127.0.0.1:5000/x/y``). Loopback
registries (``localhost``, ``127.0.0.0/8``, ``::1``: docker's default insecure set) are
spoken to over plain http, every other one over https.

Authentication follows the registry token flow: a ``401`` with a ``Bearer`` challenge
sends us to the challenge's realm for a token (with the basic credentials of
``~/.docker/config.json`` ``auths`` when it has some for the host, else anonymously),
and the request is repeated with that token; a ``Basic`` challenge gets the basic
credentials directly. Every failure is one :class:`RegistryError` line naming the
registry and the reference.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

from .errors import RenderError
from .profile.types import DIGEST, IMAGE_TAG

__all__ = ["RegistryError", "exists", "resolve"]

#: What we accept for a manifest, most specific last: a multi-platform index resolves to
#: the index's digest (the one ``docker pull`` records), a single image to its manifest's.
MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
#: Registries refuse manifests above 4 MiB (the distribution spec's recommendation).
MAX_MANIFEST_BYTES = 4 << 20
MAX_TOKEN_BYTES = 1 << 20
DOCKER_HUB = "docker.io"
_DOCKER_HUB_API = "registry-1.docker.io"
_DOCKER_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")
_DIGEST = re.compile(DIGEST)
#: The path components of a repository, and a registry host (a name or [IPv6]) with a port.
_PATH = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*")
_HOST = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::[0-9]+)?")
_TAG = re.compile(IMAGE_TAG)
_CHALLENGE_PARAM = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)')


class RegistryError(RenderError):
    """The registry could not answer for a reference: unreachable, refused, or broken."""


@dataclass(frozen=True)
class _Reference:
    """A parsed image reference: ``text`` as the caller wrote it."""

    text: str
    registry: str  # docker.io, ghcr.io, 127.0.0.1:5000
    repository: str  # library/redis, vitalyst/backend
    tag: str | None
    digest: str | None

    @property
    def api_host(self) -> str:
        return _DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def scheme(self) -> str:
        return "http" if _loopback(self.registry) else "https"

    def manifest_url(self, reference: str) -> str:
        return f"{self.scheme}://{self.api_host}/v2/{self.repository}/manifests/{reference}"

    def fail(self, message: str) -> RegistryError:
        return RegistryError(f"registry {self.registry}: {self.text}: {message}")


def _parse(reference: str) -> _Reference:
    """Split ``[host[:port]/]path[:tag][@digest]`` the way docker does."""
    text = reference.strip()
    name, at, digest = text.partition("@")
    if at and not _DIGEST.fullmatch(digest):
        raise RegistryError(f"{reference}: expected a digest of sha256: and 64 lowercase hex digits after '@'")
    tag: str | None = None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, _, tag = name.rpartition(":")
        if not _TAG.fullmatch(tag):
            raise RegistryError(f"{reference}: {tag!r} is not a valid tag")
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        host, path = first, rest
    else:
        host, path = DOCKER_HUB, name
    if host in ("index.docker.io", "registry-1.docker.io"):
        host = DOCKER_HUB
    if host == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    if not _PATH.fullmatch(path) or not _HOST.fullmatch(host):
        raise RegistryError(f"{reference}: not an image reference (expected [registry/]repository[:tag][@digest], lowercase)")
    return _Reference(text, host, path, tag, digest or None)


def _loopback(host: str) -> bool:
    """Docker's default insecure registries: localhost and the loopback addresses."""
    if host.startswith("["):
        name = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        name = host.split(":", 1)[0]
    else:
        name = host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


# -- the public calls ----------------------------------------------------------------


def resolve(reference: str, *, timeout: float = 10.0) -> str:
    """The digest (``sha256:...``) of the manifest that ``repo:tag`` points at now.

    The tag is required: ``latest`` is never assumed. A reference that already carries a
    digest is refused (ask :func:`exists` about it instead).
    """
    ref = _parse(reference)
    if ref.digest is not None:
        raise ref.fail("already pinned to a digest; give repo:tag to resolve")
    if ref.tag is None:
        raise ref.fail("no tag: give repo:tag (latest is not assumed)")
    digest = _Client(ref, timeout).manifest_digest(ref.tag)
    if digest is None:
        raise ref.fail(f"manifest unknown: the registry has no tag {ref.tag!r} in {ref.repository}")
    return digest


def exists(reference: str, *, timeout: float = 10.0) -> bool:
    """Whether the registry has the manifest ``repo[:tag]@sha256:...`` pins.

    ``False`` only when the registry answers 404; anything else it cannot answer
    (unreachable, 5xx, credentials refused) raises :class:`RegistryError`.
    """
    ref = _parse(reference)
    if ref.digest is None:
        raise ref.fail("no digest: give repo[:tag]@sha256:...")
    return _Client(ref, timeout).manifest_digest(ref.digest) is not None


# -- HTTP ----------------------------------------------------------------------------


@dataclass
class _Response:
    status: int
    headers: Message
    body: bytes


class _NoRedirectAuth(urllib.request.HTTPRedirectHandler):
    """Follow redirects, never carrying our Authorization header to another host."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc:
            new.headers.pop("Authorization", None)
        return new


class _Client:
    """One reference's conversation with its registry: requests, the auth flow, errors."""

    def __init__(self, ref: _Reference, timeout: float):
        self.ref = ref
        self.timeout = timeout
        self.authorization: str | None = None
        handlers: list[urllib.request.BaseHandler] = [_NoRedirectAuth()]
        if _loopback(ref.registry):
            handlers.append(urllib.request.ProxyHandler({}))  # a loopback registry is never behind a proxy
        self.opener = urllib.request.build_opener(*handlers)

    def manifest_digest(self, reference: str) -> str | None:
        """The digest of manifest ``reference`` (a tag or digest); None on 404."""
        url = self.ref.manifest_url(reference)
        response = self._authorised("HEAD", url)
        if response.status == 404:
            return None
        if response.status in (405, 501) or (response.status == 200 and not response.headers.get("Docker-Content-Digest")):
            # Some registries answer no HEAD, or HEAD without the digest: GET the body.
            response = self._authorised("GET", url, limit=MAX_MANIFEST_BYTES)
            if response.status == 404:
                return None
        if response.status != 200:
            raise self.ref.fail(f"GET/HEAD {_path(url)} answered {_status(response)}")
        header = (response.headers.get("Docker-Content-Digest") or "").strip()
        if header:
            if not _DIGEST.fullmatch(header):
                raise self.ref.fail(f"the registry sent an unusable Docker-Content-Digest {header!r}")
            return header
        return "sha256:" + hashlib.sha256(response.body).hexdigest()

    def _authorised(self, method: str, url: str, *, limit: int = 0) -> _Response:
        """Send, and on a first 401 answer the registry's challenge and send again."""
        response = self._send(method, url, limit=limit)
        if response.status == 401 and self.authorization is None:
            self.authorization = self._authorise(response)
            response = self._send(method, url, limit=limit)
        if response.status == 401:
            raise self.ref.fail(f"the registry refused our authorization ({_status(response)})")
        return self._checked(response)

    def _checked(self, response: _Response) -> _Response:
        if response.status == 403:
            raise self.ref.fail(f"access denied ({_status(response)}); check `docker login {self.ref.registry}`")
        if response.status == 429:
            raise self.ref.fail("rate limited (429 Too Many Requests); try again later or log in")
        if response.status >= 500:
            raise self.ref.fail(f"the registry failed ({_status(response)})")
        return response

    def _authorise(self, response: _Response) -> str:
        """The Authorization header the 401 ``response`` asks for."""
        challenges = _challenges(response.headers.get_all("WWW-Authenticate") or [])
        credentials = _credentials(self.ref.registry)
        bearer = challenges.get("bearer")
        if bearer is not None:
            return "Bearer " + self._token(bearer, credentials)
        if "basic" in challenges:
            if credentials is None:
                raise self.ref.fail(f"the registry asks for a login and ~/.docker/config.json has none for it (docker login {self.ref.registry})")
            return "Basic " + _basic(credentials)
        raise self.ref.fail("the registry answered 401 without a Bearer or Basic challenge")

    def _token(self, challenge: dict[str, str], credentials: tuple[str, str] | None) -> str:
        realm = challenge.get("realm", "")
        if urllib.parse.urlsplit(realm).scheme not in ("http", "https"):
            raise self.ref.fail(f"the registry's Bearer challenge has no usable realm ({realm!r})")
        query = {"service": challenge.get("service", ""), "scope": challenge.get("scope") or f"repository:{self.ref.repository}:pull"}
        url = realm + ("&" if urllib.parse.urlsplit(realm).query else "?") + urllib.parse.urlencode({k: v for k, v in query.items() if v})
        headers = {"Authorization": "Basic " + _basic(credentials)} if credentials else {}
        response = self._send("GET", url, headers=headers, limit=MAX_TOKEN_BYTES, authorised=False)
        if response.status != 200:
            who = "with the credentials of ~/.docker/config.json" if credentials else "anonymously"
            raise self.ref.fail(f"the token service {_host(realm)} refused a pull token {who} ({_status(response)})")
        try:
            answer = json.loads(response.body)
        except ValueError:
            answer = None
        token = (answer.get("token") or answer.get("access_token")) if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise self.ref.fail(f"the token service {_host(realm)} answered without a token")
        return token

    def _send(
        self, method: str, url: str, *, headers: dict[str, str] | None = None, limit: int = 0, authorised: bool = True
    ) -> _Response:
        request = urllib.request.Request(url, method=method, headers=headers or {})
        if authorised:
            request.add_header("Accept", ", ".join(MANIFEST_TYPES))
            if self.authorization is not None:
                request.add_header("Authorization", self.authorization)
        try:
            with self.opener.open(request, timeout=self.timeout) as answer:
                return _Response(answer.status, answer.headers, _read(answer, limit, self.ref))
        except urllib.error.HTTPError as error:
            with error:
                return _Response(error.code, error.headers, _read(error, min(limit, 65536), self.ref))
        except (TimeoutError, socket.timeout):
            raise self.ref.fail(f"no answer from {_host(url)} within {self.timeout:g}s") from None
        except urllib.error.URLError as error:
            reason = error.reason
            why = reason.strerror if isinstance(reason, OSError) and reason.strerror else str(reason)
            raise self.ref.fail(f"cannot reach {_host(url)}: {why}") from None
        except (OSError, ValueError) as error:
            raise self.ref.fail(f"cannot talk to {_host(url)}: {error}") from None


def _read(answer: Any, limit: int, ref: _Reference) -> bytes:
    if not limit:
        return b""
    body: bytes = answer.read(limit + 1)
    if len(body) > limit:
        raise ref.fail(f"the registry's answer is larger than {limit} bytes")
    return body


def _status(response: _Response) -> str:
    """``404 MANIFEST_UNKNOWN: manifest unknown``: the status and the registry's own error, if any."""
    text = str(response.status)
    try:
        errors = json.loads(response.body).get("errors") if response.body else None
    except (ValueError, AttributeError):
        errors = None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        text += f" {errors[0].get('code', '')}: {errors[0].get('message', '')}".rstrip(": ")
    return text


def _path(url: str) -> str:
    return urllib.parse.urlsplit(url).path


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc


def _challenges(headers: list[str]) -> dict[str, dict[str, str]]:
    """``WWW-Authenticate`` challenges by lowercase scheme, with their parameters
    (registries send one challenge per header)."""
    found: dict[str, dict[str, str]] = {}
    for header in headers:
        scheme, _, rest = header.strip().partition(" ")
        params = {}
        for key, value in _CHALLENGE_PARAM.findall(rest):
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            params[key.lower()] = value
        found.setdefault(scheme.lower(), params)
    return found


def _basic(credentials: tuple[str, str]) -> str:
    return base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode("ascii")


def _docker_config() -> Path:
    folder = os.environ.get("DOCKER_CONFIG")
    return Path(folder) / "config.json" if folder else Path.home() / ".docker" / "config.json"


def _credentials(registry: str) -> tuple[str, str] | None:
    """(user, password) that ``docker login`` stored in config.json ``auths`` for the host."""
    try:
        config = json.loads(_docker_config().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    auths = config.get("auths") if isinstance(config, dict) else None
    if not isinstance(auths, dict):
        return None
    wanted = set(_DOCKER_HUB_KEYS) if registry == DOCKER_HUB else {registry}
    for key, entry in auths.items():
        host = re.sub(r"^https?://", "", str(key)).split("/", 1)[0]
        if (key in wanted or host in wanted) and isinstance(entry, dict):
            found = _entry_credentials(entry)
            if found is not None:
                return found
    return None


def _entry_credentials(entry: dict[str, Any]) -> tuple[str, str] | None:
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            user, colon, password = base64.b64decode(encoded).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return (user, password) if colon else None
    name, secret = entry.get("username"), entry.get("password")
    if isinstance(name, str) and isinstance(secret, str) and name:
        return name, secret
    return None
