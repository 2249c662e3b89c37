"""A registry on 127.0.0.1 that speaks the distribution API's manifest calls and the token
auth flow, for testing ``vitalyst_render.registry`` and ``render pin`` without a network.

It serves manifests by tag and by digest (the digest is the sha256 of the body, as a
real registry computes it), and can ask for a Bearer token from its own token endpoint,
for Basic credentials, or for nothing. Every request is recorded.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal
from urllib.parse import parse_qs, urlsplit

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"


@dataclass
class Request:
    method: str
    path: str
    authorization: str | None


@dataclass
class FakeRegistry:
    auth: Literal["none", "bearer", "basic"] = "none"
    user: str | None = None  # when set, the token endpoint (or Basic) wants these credentials
    password: str | None = None
    head: bool = True  # answer HEAD (else 405, as some registries do)
    digest_header: bool = True
    manifests: dict[tuple[str, str], bytes] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    fail_with: int | None = None  # answer every manifest request with this status

    def __post_init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def push(self, repository: str, tag: str, content: str = "") -> str:
        """Store a manifest under ``tag`` and return its digest."""
        body = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST_TYPE, "annotations": {"content": content or f"{repository}:{tag}"}}).encode()
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        self.manifests[(repository, tag)] = body
        self.manifests[(repository, digest)] = body
        return digest

    def token_for(self, repository: str) -> str:
        return f"token-{repository.replace('/', '-')}"

    def __enter__(self) -> FakeRegistry:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(registry: FakeRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_HEAD(self) -> None:  # noqa: N802
            self._serve(send_body=False)

        def do_GET(self) -> None:  # noqa: N802
            self._serve(send_body=True)

        def _serve(self, send_body: bool) -> None:
            registry.requests.append(Request(self.command, self.path, self.headers.get("Authorization")))
            url = urlsplit(self.path)
            if url.path == "/token":
                return self._token(url.query)
            parts = url.path.split("/manifests/")
            if not url.path.startswith("/v2/") or len(parts) != 2:
                return self._answer(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})
            repository, reference = parts[0].removeprefix("/v2/"), parts[1]
            if not self._authorised(repository):
                return
            if not send_body and not registry.head:
                return self._answer(405, None)
            if registry.fail_with is not None:
                return self._answer(registry.fail_with, {"errors": [{"code": "UNAVAILABLE", "message": "try later"}]})
            body = registry.manifests.get((repository, reference))
            if body is None:
                return self._answer(404, {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}, send_body)
            self.send_response(200)
            self.send_header("Content-Type", MANIFEST_TYPE)
            self.send_header("Content-Length", str(len(body)))
            if registry.digest_header:
                self.send_header("Docker-Content-Digest", "sha256:" + hashlib.sha256(body).hexdigest())
            self.end_headers()
            if send_body:
                self.wfile.write(body)

        def _authorised(self, repository: str) -> bool:
            given = self.headers.get("Authorization")
            if registry.auth == "none":
                return True
            if registry.auth == "bearer":
                if given == f"Bearer {registry.token_for(repository)}":
                    return True
                realm = f"http://{registry.host}/token"
                challenge = f'Bearer realm="{realm}",service="fake-registry",scope="repository:{repository}:pull"'
            else:
                if given == self._basic():
                    return True
                challenge = 'Basic realm="fake-registry"'
            self._answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}, challenge=challenge)
            return False

        def _basic(self) -> str:
            return "Basic " + base64.b64encode(f"{registry.user}:{registry.password}".encode()).decode()

        def _token(self, query: str) -> None:
            params = {k: v[0] for k, v in parse_qs(query).items()}
            if registry.user is not None and self.headers.get("Authorization") != self._basic():
                return self._answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})
            scope = params.get("scope", "")
            if params.get("service") != "fake-registry" or not scope.startswith("repository:") or not scope.endswith(":pull"):
                return self._answer(400, {"errors": [{"code": "DENIED", "message": "bad scope"}]})
            self._answer(200, {"token": registry.token_for(scope.removeprefix("repository:").removesuffix(":pull"))})

        def _answer(self, status: int, data: object, send_body: bool = True, challenge: str | None = None) -> None:
            body = json.dumps(data).encode() if data is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if challenge:
                self.send_header("WWW-Authenticate", challenge)
            self.end_headers()
            if send_body and self.command != "HEAD":
                self.wfile.write(body)

    return Handler
