"""Stand-ins for the Cloudflare API endpoints under /client/v4 that the dashboard calls.

Gateway errors (authentication, unknown route, rate limit) use Cloudflare's v4 envelope.
RealtimeKit endpoints return {"success": true, "data": ...} and fail with
{"success": false, "error": {"code", "message"}}, where the sandbox sets code to the HTTP status.
"""

import hmac
from email.message import Message
from typing import TYPE_CHECKING, Any

from . import seed
from .errors import SandboxError
from .presets import find_preset, preset_detail, preset_summary
from .routing import MethodNotAllowed, Request, Response, RouteNotFound, Router, json_response
from .state import API_POLL_CREATOR
from .traffic import RATE_LIMIT, RATE_WINDOW_SECONDS, RateStatus
from .validation import meeting_filters, page_params, participant_fields, poll_fields

if TYPE_CHECKING:
    from .server import SandboxServer

PREFIX = "/client/v4"
KIT = "/accounts/{account_id}/realtime/kit/{app_id}"

ROUTES = Router()


def v4_error(status: int, code: int, message: str) -> Response:
    return json_response(
        status,
        {
            "success": False,
            "errors": [{"code": code, "message": message}],
            "messages": [],
            "result": None,
        },
    )


def kit_error(status: int, message: str) -> Response:
    return json_response(status, {"success": False, "error": {"code": status, "message": message}})


def kit_ok(data: Any, *, status: int = 200, paging: dict[str, int] | None = None) -> Response:
    payload = {"success": True, "data": data}
    if paging is not None:
        payload["paging"] = paging
    return json_response(status, payload)


def paginate(items: list[Any], page_no: int, per_page: int) -> tuple[list[Any], dict[str, int]]:
    """Slice one page and describe it with 1-based offsets.

    end_offset - start_offset + 1 is the number of items on the page, so an empty page
    has end_offset = start_offset - 1.
    """
    skipped = (page_no - 1) * per_page
    page = items[skipped : skipped + per_page]
    paging = {
        "total_count": len(items),
        "start_offset": skipped + 1,
        "end_offset": skipped + len(page),
    }
    return page, paging


def bearer_token(headers: Message) -> str | None:
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def handle(request: Request, sandbox: "SandboxServer") -> Response:
    """Serve one API request whose path has /client/v4 removed, with Ratelimit headers."""
    token = bearer_token(request.headers)
    rate = sandbox.traffic.count_request(token or "")
    response = _dispatch(request, sandbox, token, rate)
    for name, value in rate.headers().items():
        response.set_header(name, value)
    return response


def _dispatch(
    request: Request, sandbox: "SandboxServer", token: str | None, rate: RateStatus
) -> Response:
    if not rate.allowed:
        response = v4_error(
            429,
            10100,
            f"More than {RATE_LIMIT} requests per {RATE_WINDOW_SECONDS} seconds reached. "
            "Please wait and consider throttling your request speed",
        )
        response.set_header("Retry-After", str(rate.reset_after))
        return response

    try:
        handler, params = ROUTES.match(request.method, request.path)
    except RouteNotFound:
        return v4_error(404, 7000, "No route for that URI")
    except MethodNotAllowed as err:
        response = v4_error(405, 7001, "Method not allowed for api_token authentication")
        response.set_header("Allow", ", ".join(err.allowed))
        return response

    denied = _check_access(token, params, sandbox.identity)
    if denied is not None:
        return denied

    request.params = params
    try:
        return handler(request, sandbox)
    except SandboxError as err:
        return kit_error(err.status, err.message)


def _check_access(
    token: str | None, params: dict[str, str], identity: seed.Identity
) -> Response | None:
    """Return the error response for a missing or wrong token, account or app, else None."""
    if token is None:
        return v4_error(401, 10000, "Authentication error")
    if not hmac.compare_digest(token.encode(), identity.api_token.encode()):
        return v4_error(403, 10000, "Authentication error")
    if "account_id" in params and params["account_id"] != identity.account_id:
        return v4_error(403, 9109, "Unauthorized to access requested resource")
    if "app_id" in params and params["app_id"] != identity.app_id:
        return kit_error(404, f"App {params['app_id']} not found")
    return None


def _token_status(identity: seed.Identity) -> Response:
    return json_response(
        200,
        {
            "success": True,
            "errors": [],
            "messages": [{"code": 10000, "message": "This API Token is valid and active"}],
            "result": {"id": identity.api_token_id, "status": "active"},
        },
    )


@ROUTES.route("GET", "/user/tokens/verify")
def verify_user_token(request: Request, sandbox: "SandboxServer") -> Response:
    return _token_status(sandbox.identity)


@ROUTES.route("GET", "/accounts/{account_id}/tokens/verify")
def verify_account_token(request: Request, sandbox: "SandboxServer") -> Response:
    return _token_status(sandbox.identity)


@ROUTES.route("GET", "/accounts/{account_id}/realtime/kit/apps")
def list_apps(request: Request, sandbox: "SandboxServer") -> Response:
    page_no, per_page = page_params(request.query)
    identity = sandbox.identity
    apps = [{"id": identity.app_id, "name": identity.app_name, "created_at": seed.APP_CREATED_AT}]

    search = request.query.get("search")
    if search is not None:
        apps = [app for app in apps if search.casefold() in app["name"].casefold()]

    page, paging = paginate(apps, page_no, per_page)
    return kit_ok(page, paging=paging)


@ROUTES.route("GET", KIT + "/meetings")
def list_meetings(request: Request, sandbox: "SandboxServer") -> Response:
    page_no, per_page = page_params(request.query)
    meetings = sandbox.state.list_meetings(meeting_filters(request.query))
    page, paging = paginate(meetings, page_no, per_page)
    return kit_ok(page, paging=paging)


@ROUTES.route("GET", KIT + "/meetings/{meeting_id}")
def get_meeting(request: Request, sandbox: "SandboxServer") -> Response:
    return kit_ok(sandbox.state.get_meeting(request.params["meeting_id"]))


@ROUTES.route("GET", KIT + "/meetings/{meeting_id}/active-session")
def get_active_session(request: Request, sandbox: "SandboxServer") -> Response:
    session = sandbox.state.get_live_session(request.params["meeting_id"])
    return kit_ok({**session, "organization_id": sandbox.identity.app_id})


@ROUTES.route("POST", KIT + "/meetings/{meeting_id}/active-session/poll")
def create_poll(request: Request, sandbox: "SandboxServer") -> Response:
    fields = poll_fields(request.json_object())
    poll = sandbox.state.create_poll(request.params["meeting_id"], fields, API_POLL_CREATOR)
    return kit_ok({"action": "create", "poll": poll}, status=201)


@ROUTES.route("POST", KIT + "/meetings/{meeting_id}/participants")
def add_participant(request: Request, sandbox: "SandboxServer") -> Response:
    fields = participant_fields(request.json_object())
    participant = sandbox.state.add_participant(request.params["meeting_id"], fields)
    return kit_ok(participant, status=201)


@ROUTES.route("POST", KIT + "/meetings/{meeting_id}/participants/{participant_id}/token")
def refresh_participant_token(request: Request, sandbox: "SandboxServer") -> Response:
    token = sandbox.state.refresh_participant_token(
        request.params["meeting_id"], request.params["participant_id"]
    )
    return kit_ok({"token": token}, status=201)


@ROUTES.route("GET", KIT + "/presets")
def list_presets(request: Request, sandbox: "SandboxServer") -> Response:
    page_no, per_page = page_params(request.query)
    presets = [preset_summary(preset) for preset in seed.PRESETS]

    search = request.query.get("search")
    if search is not None:
        presets = [preset for preset in presets if search.casefold() in preset["name"].casefold()]

    page, paging = paginate(presets, page_no, per_page)
    return kit_ok(page, paging=paging)


@ROUTES.route("GET", KIT + "/presets/{preset_id}")
def get_preset(request: Request, sandbox: "SandboxServer") -> Response:
    return kit_ok(preset_detail(find_preset(request.params["preset_id"])))
