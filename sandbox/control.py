"""Control endpoints under /sandbox/ that tests and demos use to steer the sandbox.

They need no authentication. Errors are {"error": "<message>"}.
"""

from typing import TYPE_CHECKING

from . import browser_sdk
from .errors import InvalidInput, SandboxError
from .routing import MethodNotAllowed, Request, Response, RouteNotFound, Router, json_response
from .validation import fault_fields, optional_int, optional_string, poll_fields, vote_fields

if TYPE_CHECKING:
    from .server import SandboxServer

DEFAULT_POLL_CREATOR = "Meeting participant"

ROUTES = Router()
ROUTES.include(browser_sdk.ROUTES)


def control_error(status: int, message: str) -> Response:
    return json_response(status, {"error": message})


def handle(request: Request, sandbox: "SandboxServer") -> Response:
    try:
        handler, params = ROUTES.match(request.method, request.path)
    except RouteNotFound:
        return control_error(404, f"No control endpoint at {request.path}")
    except MethodNotAllowed as err:
        allowed = ", ".join(err.allowed)
        response = control_error(405, f"{request.method} is not allowed here; use {allowed}")
        response.set_header("Allow", allowed)
        return response

    request.params = params
    try:
        return handler(request, sandbox)
    except SandboxError as err:
        return control_error(err.status, err.message)


@ROUTES.route("GET", "/sandbox/healthz")
def healthz(request: Request, sandbox: "SandboxServer") -> Response:
    return json_response(200, {"status": "ok"})


@ROUTES.route("POST", "/sandbox/reset")
def reset(request: Request, sandbox: "SandboxServer") -> Response:
    sandbox.reset()
    return json_response(200, {"status": "reset"})


@ROUTES.route("GET", "/sandbox/meetings")
def list_meetings(request: Request, sandbox: "SandboxServer") -> Response:
    return json_response(200, {"meetings": sandbox.state.overview()})


@ROUTES.route("POST", "/sandbox/meetings/{meeting_id}/session")
def start_session(request: Request, sandbox: "SandboxServer") -> Response:
    body = request.json_object(optional=True)
    participants = optional_int(body, "participants", default=1, minimum=0)
    session = sandbox.state.start_session(request.params["meeting_id"], participants)
    return json_response(201, {"session": session})


@ROUTES.route("DELETE", "/sandbox/meetings/{meeting_id}/session")
def end_session(request: Request, sandbox: "SandboxServer") -> Response:
    session = sandbox.state.end_session(request.params["meeting_id"])
    return json_response(200, {"session": session})


@ROUTES.route("POST", "/sandbox/meetings/{meeting_id}/polls")
def create_poll(request: Request, sandbox: "SandboxServer") -> Response:
    body = request.json_object()
    fields = poll_fields(body)
    created_by = optional_string(body, "created_by")
    if created_by is not None and not created_by.strip():
        raise InvalidInput("created_by is blank")

    poll = sandbox.state.create_participant_poll(
        request.params["meeting_id"], fields, created_by or DEFAULT_POLL_CREATOR
    )
    return json_response(201, {"poll": poll})


@ROUTES.route("POST", "/sandbox/meetings/{meeting_id}/polls/{poll_id}/votes")
def vote(request: Request, sandbox: "SandboxServer") -> Response:
    fields = vote_fields(request.json_object())
    poll = sandbox.state.vote(request.params["meeting_id"], request.params["poll_id"], fields)
    return json_response(201, {"poll": poll})


@ROUTES.route("GET", "/sandbox/requests")
def list_requests(request: Request, sandbox: "SandboxServer") -> Response:
    return json_response(200, {"requests": sandbox.traffic.list_requests()})


@ROUTES.route("DELETE", "/sandbox/requests")
def clear_requests(request: Request, sandbox: "SandboxServer") -> Response:
    sandbox.traffic.clear_requests()
    return json_response(200, {"status": "cleared"})


@ROUTES.route("GET", "/sandbox/faults")
def list_faults(request: Request, sandbox: "SandboxServer") -> Response:
    return json_response(200, {"faults": sandbox.traffic.list_faults()})


@ROUTES.route("POST", "/sandbox/faults")
def add_fault(request: Request, sandbox: "SandboxServer") -> Response:
    fault = sandbox.traffic.add_fault(fault_fields(request.json_object()))
    return json_response(201, {"fault": fault})


@ROUTES.route("DELETE", "/sandbox/faults")
def clear_faults(request: Request, sandbox: "SandboxServer") -> Response:
    sandbox.traffic.clear_faults()
    return json_response(200, {"status": "cleared"})
