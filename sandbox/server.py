"""HTTP server: reads requests, applies faults, routes to the API or control area, logs."""

import ipaddress
import logging
import os
import socket
import socketserver
import time
from dataclasses import replace
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import api, browser_sdk, control, seed
from .routing import Request, Response, json_response
from .state import SandboxState
from .times import format_iso, utc_now
from .traffic import Fault, Traffic

MAX_BODY_BYTES = 1024 * 1024
# Bounds on reading a rejected body before closing the connection.
MAX_DRAIN_BYTES = 64 * 1024 * 1024
DRAIN_TIMEOUT_SECONDS = 2

logger = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SandboxServer(ThreadingHTTPServer):
    """Threaded HTTP server that owns the sandbox's identity, state and traffic records."""

    daemon_threads = True
    # Tests open dozens of connections at once; the default backlog of 5 would drop some.
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], identity: seed.Identity, *, fresh_sessions: bool = False
    ) -> None:
        self.identity = identity
        self.state = SandboxState(fresh_sessions=fresh_sessions)
        self.traffic = Traffic()
        super().__init__(address, SandboxHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can stall on DNS and is unused.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}"

    def reset(self) -> None:
        self.state.reset()
        self.traffic.reset()

    def shutdown(self) -> None:
        # Long-polls hold handler threads for up to 25 s. Responding to them now lets clients
        # learn of the stop at once, not at their timeout.
        self.state.close()
        super().shutdown()


class SandboxServerIPv6(SandboxServer):
    address_family = socket.AF_INET6


def make_server(
    host: str, port: int, identity: seed.Identity | None = None, *, fresh_sessions: bool = False
) -> SandboxServer:
    """Bind a sandbox server to a loopback host; port 0 picks a free port.

    The identity defaults to the seeded one, overridden by SANDBOX_* environment variables.
    With fresh_sessions, the seeded live sessions get new ids, as after a real restart.
    Raises ValueError for a host that is not a loopback address and OSError when binding fails.
    """
    if not is_loopback(host):
        raise ValueError(f"{host!r} is not a loopback address; use 127.0.0.1, ::1 or localhost")
    if identity is None:
        identity = seed.identity_from_env(os.environ)
    server_class = SandboxServerIPv6 if ":" in host else SandboxServer
    return server_class((host, port), identity, fresh_sessions=fresh_sessions)


class BodyError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "RealtimeKitSandbox/1.0"
    # Headers and body go out in separate writes; without this each keep-alive response
    # waits about 40 ms for a delayed ACK.
    disable_nagle_algorithm = True
    server: SandboxServer

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Leave access logging to _handle, which also measures the duration."""

    def log_message(self, format: str, *args: object) -> None:
        logger.warning("%s: %s", self.address_string(), format % args)

    def _handle(self) -> None:
        started = time.monotonic()
        received_at = utc_now()
        path, _, raw_query = self.path.partition("?")
        is_api = path == api.PREFIX or path.startswith(api.PREFIX + "/")

        fault = None
        body_rejected = False
        try:
            body = self._read_body()
        except BodyError as err:
            body_rejected = True
            response = _area_error(is_api, err.status, err.message)
        except ConnectionError:
            self.close_connection = True
            return
        else:
            request = Request(self.command, path, raw_query, self.headers, body)
            response, fault = self._respond(request, is_api)

        if browser_sdk.is_browser_sdk_path(path):
            # The stand-in SDK runs in pages of another origin, such as the dashboard.
            response.set_header("Access-Control-Allow-Origin", "*")

        duration_ms = round((time.monotonic() - started) * 1000, 1)
        if is_api:
            self._record(path, raw_query, response.status, received_at, duration_ms, fault)
        self._send(response, cut=fault is not None and fault.cut)
        if body_rejected:
            self._discard_unread_body()
        logger.info("%s %s %d %.1fms", self.command, path, response.status, duration_ms)

    def _read_body(self) -> bytes:
        """Read the body by Content-Length; raises BodyError for a body the sandbox rejects."""
        if "Transfer-Encoding" in self.headers:
            raise BodyError(
                411, "Send the body with a Content-Length header; chunked is unsupported"
            )
        header = self.headers.get("Content-Length")
        if header is None:
            return b""
        if not header.isascii() or not header.strip().isdigit():
            raise BodyError(400, f"Invalid Content-Length header: {header!r}")

        length = int(header)
        if length > MAX_BODY_BYTES:
            raise BodyError(
                413, f"Request body is {length} bytes; the limit is {MAX_BODY_BYTES} bytes (1 MiB)"
            )
        body = self.rfile.read(length)
        if len(body) < length:
            raise ConnectionError(f"client sent {len(body)} of {length} body bytes")
        return body

    def _discard_unread_body(self) -> None:
        """Read and drop what the client still sends, within limits, then close.

        Closing a socket with unread input makes the kernel reset the connection, and the
        client could then lose the error response before reading it.
        """
        self.close_connection = True
        drained = 0
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(DRAIN_TIMEOUT_SECONDS)
            while drained < MAX_DRAIN_BYTES:
                chunk = self.rfile.read1(64 * 1024)
                if not chunk:
                    break
                drained += len(chunk)
        except OSError:
            pass

    def _respond(self, request: Request, is_api: bool) -> tuple[Response, Fault | None]:
        try:
            if is_api:
                return self._serve_api(request)
            if request.path.startswith("/sandbox/"):
                return control.handle(request, self.server), None
            message = "Not found: API paths start with /client/v4/, control paths with /sandbox/"
            return control.control_error(404, message), None
        except Exception as err:
            logger.exception("Unhandled error for %s %s", request.method, request.path)
            return _area_error(is_api, 500, f"Internal sandbox error: {err}"), None

    def _serve_api(self, request: Request) -> tuple[Response, Fault | None]:
        """Apply the first matching fault, if any, around the normal API response."""
        api_path = request.path[len(api.PREFIX) :]
        fault = self.server.traffic.take_fault(request.method, api_path)
        if fault is None:
            return api.handle(replace(request, path=api_path), self.server), None

        if fault.delay_ms:
            time.sleep(fault.delay_ms / 1000)
        if fault.replaces_response:
            response = _fault_response(fault)
        else:
            response = api.handle(replace(request, path=api_path), self.server)
        for name, value in fault.headers.items():
            response.set_header(name, value)
        return response, fault

    def _record(
        self,
        path: str,
        raw_query: str,
        status: int,
        received_at: datetime,
        duration_ms: float,
        fault: Fault | None,
    ) -> None:
        # Recorded before the response is sent, so a client that reads the log right after
        # its call always finds the call there.
        self.server.traffic.log_request(
            {
                "method": self.command,
                "path": path,
                "query": raw_query,
                "status": status,
                "time": format_iso(received_at),
                "duration_ms": duration_ms,
                "fault": None if fault is None else fault.id,
            }
        )

    def _send(self, response: Response, *, cut: bool) -> None:
        """Write the response; with cut, declare the full length but send only half the body."""
        body = response.body
        declared = len(body)
        if cut:
            declared = max(len(body), 2)
            body = body[: declared // 2]
            self.close_connection = True

        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(declared))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            # Without the query, which can hold an observer's token.
            path = self.path.partition("?")[0]
            logger.info("Client closed the connection before %s %s was sent", self.command, path)


def _area_error(is_api: bool, status: int, message: str) -> Response:
    if is_api:
        return api.kit_error(status, message)
    return control.control_error(status, message)


def _fault_response(fault: Fault) -> Response:
    """Build the response a fault sends: JSON for a JSON value, raw text for a string."""
    status = fault.status or 200
    if fault.body is None:
        return Response(status)
    if isinstance(fault.body, str):
        return Response(
            status, fault.body.encode("utf-8"), {"Content-Type": "text/html; charset=utf-8"}
        )
    return json_response(status, fault.body)
