#!/usr/bin/python3
"""Server of the neo4j stand-in (stdlib only).

HTTP on server.http.listen_address (default :7474): GET / answers Neo4j's discovery
document. Bolt on server.bolt.listen_address (default :7687): answers the Bolt handshake
by choosing version 5.0, then closes; no Bolt message is served. Writes
$NEO4J_HOME/run/neo4j.pid and logs to stdout and <logs>/neo4j.log. SIGTERM or SIGINT
stops it with exit status 0.
"""

import datetime
import json
import os
import signal
import socket
import socketserver
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = "5.26.0-standin"
EDITION = "community"
HOME = os.environ.get("NEO4J_HOME", "/var/lib/neo4j")
BOLT_MAGIC = b"\x60\x60\xb0\x17"
BOLT_5_0 = b"\x00\x00\x00\x05"
NO_VERSION = b"\x00\x00\x00\x00"


def read_conf(path):
    settings = {}
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                line = line.strip()
                if line and not line.startswith("#") and "=" in line:
                    key, value = line.split("=", 1)
                    settings[key.strip()] = value.strip()
    except OSError:
        pass
    return settings


CONF = read_conf(os.path.join(HOME, "conf", "neo4j.conf"))
LOG_DIR = CONF.get("server.directories.logs", os.path.join(HOME, "logs"))
RUN_DIR = CONF.get("server.directories.run", os.path.join(HOME, "run"))
if not os.path.isabs(RUN_DIR):
    RUN_DIR = os.path.join(HOME, RUN_DIR)
PID_FILE = os.path.join(RUN_DIR, "neo4j.pid")
_log_handle = None


def log(level, message):
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    line = f"{stamp}+0000 {level:<5} {message}\n"
    sys.stdout.write(line)
    sys.stdout.flush()
    if _log_handle is not None:
        _log_handle.write(line)
        _log_handle.flush()


def die(message):
    sys.stderr.write(f"neo4j stand-in: ERROR: {message}\n")
    sys.stderr.flush()
    sys.exit(1)


def listen_address(setting, default_port):
    """Resolve a Neo4j listen address setting (":7474", "host:port") like Neo4j does."""
    default_host = CONF.get("server.default_listen_address", "localhost")
    value = CONF.get(setting, f":{default_port}")
    host, _, port = value.rpartition(":")
    host = host.strip("[]") or default_host
    return host, int(port or default_port)


def advertised_port(setting, default_port):
    value = CONF.get(setting, "")
    port = value.rpartition(":")[2]
    return int(port) if port.isdigit() else default_port


class DiscoveryHandler(BaseHTTPRequestHandler):
    def version_string(self):
        return "neo4j-standin"

    def _host(self):
        header = self.headers.get("Host") or "localhost"
        if header.startswith("["):
            return header.split("]", 1)[0] + "]"
        return header.split(":", 1)[0] or "localhost"

    def _discovery(self):
        host = self._host()
        bolt_port = advertised_port("server.bolt.advertised_address", BOLT_ADDRESS[1])
        http_port = self.server.server_address[1]
        return {
            "bolt_routing": f"neo4j://{host}:{bolt_port}",
            "transaction": f"http://{host}:{http_port}/db/{{databaseName}}/tx",
            "bolt_direct": f"bolt://{host}:{bolt_port}",
            "neo4j_version": VERSION,
            "neo4j_edition": EDITION,
        }

    def _send(self, status, body, head_only=False):
        payload = (json.dumps(body) + "\n").encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Vary", "Accept")
        self.end_headers()
        if not head_only:
            self.wfile.write(payload)

    def _route(self, head_only):
        if self.path.split("?", 1)[0] in ("/", ""):
            self._send(200, self._discovery(), head_only)
        else:
            self._send(404, {"errors": [{"code": "Neo.ClientError.Request.Invalid",
                                         "message": "not served by the neo4j stand-in"}]},
                       head_only)

    def do_GET(self):  # noqa: N802 (http.server API)
        self._route(head_only=False)

    def do_HEAD(self):  # noqa: N802 (http.server API)
        self._route(head_only=True)

    def log_message(self, format, *args):  # noqa: A002 (http.server API)
        pass


class BoltHandshakeHandler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        sock.settimeout(5)
        data = b""
        try:
            while len(data) < 20:
                chunk = sock.recv(20 - len(data))
                if not chunk:
                    return
                data += chunk
        except OSError:
            return
        if data[:4] != BOLT_MAGIC:
            return
        chosen = NO_VERSION
        for offset in range(4, 20, 4):
            _, version_range, minor, major = struct.unpack("BBBB", data[offset:offset + 4])
            if major == 5 and minor - version_range <= 0:
                chosen = BOLT_5_0
                break
        try:
            sock.sendall(chosen)
        except OSError:
            pass


class ThreadingTCPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class HTTPServer(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True


HTTP_ADDRESS = listen_address("server.http.listen_address", 7474)
BOLT_ADDRESS = listen_address("server.bolt.listen_address", 7687)


def main():
    global _log_handle
    try:
        os.makedirs(LOG_DIR, exist_ok=True)
        _log_handle = open(os.path.join(LOG_DIR, "neo4j.log"), "a", encoding="utf-8")
    except OSError as exc:
        die(f"cannot write the log directory {LOG_DIR}: {exc}")
    try:
        with open(PID_FILE, "w", encoding="ascii") as handle:
            handle.write(f"{os.getpid()}\n")
    except OSError as exc:
        die(f"cannot write the pid file {PID_FILE} (server.directories.run): {exc}")

    stop = threading.Event()

    def on_signal(signum, _frame):
        log("INFO", f"Neo4j Server shutdown initiated by request ({signal.Signals(signum).name})")
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    log("INFO", "Starting...")
    log("INFO", f"This instance is the neo4j stand-in, version {VERSION} ({EDITION}).")
    for key in ("server.memory.heap.initial_size", "server.memory.heap.max_size",
                "server.memory.pagecache.size"):
        if key in CONF:
            log("INFO", f"Setting {key}={CONF[key]}")
    try:
        bolt = ThreadingTCPServer(BOLT_ADDRESS, BoltHandshakeHandler)
        http = HTTPServer(HTTP_ADDRESS, DiscoveryHandler)
    except OSError as exc:
        die(f"cannot listen: {exc}")
    for server in (bolt, http):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    log("INFO", f"Bolt enabled on {BOLT_ADDRESS[0]}:{BOLT_ADDRESS[1]}.")
    log("INFO", f"HTTP enabled on {HTTP_ADDRESS[0]}:{HTTP_ADDRESS[1]}.")
    log("INFO", f"Remote interface available at http://localhost:{HTTP_ADDRESS[1]}/")
    log("INFO", "Started.")

    while not stop.wait(3600):
        pass
    for server in (http, bolt):
        server.shutdown()
        server.server_close()
    try:
        os.unlink(PID_FILE)
    except OSError:
        pass
    log("INFO", "Stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
