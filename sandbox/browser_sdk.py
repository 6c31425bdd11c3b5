"""Endpoints behind the stand-in for RealtimeKit's browser SDK, served as /sandbox/sdk.js.

The script runs on the dashboard's origin, so every response here allows any origin. The
participant token travels in the query string: a GET without custom headers is a CORS simple
request, which the browser sends without a preflight.
"""

from pathlib import Path
from typing import TYPE_CHECKING

from .errors import Unauthorized
from .routing import Request, Response, Router, json_response
from .validation import long_poll_params

if TYPE_CHECKING:
    from .server import SandboxServer

SCRIPT_PATH = "/sandbox/sdk.js"
ENDPOINT_PREFIX = "/sandbox/sdk/"
SCRIPT_FILE = Path(__file__).parent / "static" / "sdk.js"

ROUTES = Router()


def is_browser_sdk_path(path: str) -> bool:
    return path == SCRIPT_PATH or path.startswith(ENDPOINT_PREFIX)


def _token(request: Request) -> str:
    token = request.query.get("token")
    if token is None:
        raise Unauthorized("token is missing: pass ?token=<participant token>")
    return token


@ROUTES.route("GET", SCRIPT_PATH)
def script(request: Request, sandbox: "SandboxServer") -> Response:
    # Read on every request, so an edited script reaches the next page load without a restart.
    return Response(
        200,
        SCRIPT_FILE.read_bytes(),
        {"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache"},
    )


@ROUTES.route("GET", ENDPOINT_PREFIX + "participant")
def participant(request: Request, sandbox: "SandboxServer") -> Response:
    return json_response(200, sandbox.state.find_observer(_token(request)))


@ROUTES.route("POST", ENDPOINT_PREFIX + "leave")
def leave(request: Request, sandbox: "SandboxServer") -> Response:
    sandbox.state.leave(_token(request))
    return json_response(200, {"status": "left"})


@ROUTES.route("GET", ENDPOINT_PREFIX + "polls")
def polls(request: Request, sandbox: "SandboxServer") -> Response:
    token = _token(request)
    since, wait_seconds = long_poll_params(request.query)
    return json_response(200, sandbox.state.wait_for_polls(token, since, wait_seconds))
