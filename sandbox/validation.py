"""Checks on request bodies and query parameters; each raises InvalidInput naming the field."""

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .errors import InvalidInput
from .times import parse_iso

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
MIN_POLL_OPTIONS = 2
MEETING_STATUSES = ("ACTIVE", "INACTIVE")
FAULT_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MAX_FAULT_DELAY_MS = 60_000
# The sandbox computes these itself, and a fault that set them would break the HTTP framing.
FAULT_RESERVED_HEADERS = ("content-length", "transfer-encoding", "connection")
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
DEFAULT_LONG_POLL_SECONDS = 10
# A chosen bound: observers ask rarely, and a hung request shows up within half a minute.
MAX_LONG_POLL_SECONDS = 25


def required_string(body: dict[str, Any], name: str) -> str:
    if name not in body or body[name] is None:
        raise InvalidInput(f"{name} is missing")
    value = body[name]
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string")
    if not value.strip():
        raise InvalidInput(f"{name} is blank")
    return value


def optional_string(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string or null")
    return value


def optional_bool(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise InvalidInput(f"{name} must be a boolean (true or false)")
    return value


def optional_int(
    body: dict[str, Any], name: str, *, default: int | None, minimum: int
) -> int | None:
    value = body.get(name)
    if value is None:
        return default
    # bool is a subclass of int in Python, but true is no count.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name} must be an integer")
    if value < minimum:
        raise InvalidInput(f"{name} must be at least {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class PollFields:
    question: str
    options: list[str]
    anonymous: bool
    hide_votes: bool


def poll_fields(body: dict[str, Any]) -> PollFields:
    """Validate a create-poll body: a question and at least two non-blank string options."""
    question = required_string(body, "question")

    options = body.get("options")
    if not isinstance(options, list):
        raise InvalidInput("options must be a list of strings")
    if len(options) < MIN_POLL_OPTIONS:
        raise InvalidInput(f"options must contain at least 2 options, got {len(options)}")
    for index, option in enumerate(options):
        if not isinstance(option, str):
            raise InvalidInput(f"options[{index}] must be a string")
        if not option.strip():
            raise InvalidInput(f"options[{index}] is blank")

    return PollFields(
        question=question,
        options=options,
        anonymous=optional_bool(body, "anonymous"),
        hide_votes=optional_bool(body, "hide_votes"),
    )


@dataclass(frozen=True)
class ParticipantFields:
    custom_participant_id: str
    preset_name: str
    name: str | None
    picture: str | None


def participant_fields(body: dict[str, Any]) -> ParticipantFields:
    return ParticipantFields(
        custom_participant_id=required_string(body, "custom_participant_id"),
        preset_name=required_string(body, "preset_name"),
        name=optional_string(body, "name"),
        picture=optional_string(body, "picture"),
    )


def positive_int_param(query: dict[str, str], name: str, default: int) -> int:
    value = query.get(name)
    if value is None:
        return default
    if not re.fullmatch(r"[0-9]+", value) or int(value) < 1:
        raise InvalidInput(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def page_params(query: dict[str, str]) -> tuple[int, int]:
    """Return page_no (1-based, default 1) and per_page (default 20, at most 100)."""
    page_no = positive_int_param(query, "page_no", 1)
    per_page = positive_int_param(query, "per_page", DEFAULT_PER_PAGE)
    if per_page > MAX_PER_PAGE:
        raise InvalidInput(f"per_page must be at most {MAX_PER_PAGE}, got {per_page}")
    return page_no, per_page


def time_param(query: dict[str, str], name: str) -> datetime | None:
    value = query.get(name)
    if value is None:
        return None
    # An unencoded "+" in a query string decodes to a space, so "+00:00" arrives as " 00:00".
    value = value.replace(" ", "+")
    try:
        return parse_iso(value)
    except ValueError:
        raise InvalidInput(f"{name} must be an ISO 8601 timestamp, got {value!r}") from None


@dataclass(frozen=True)
class MeetingFilters:
    search: str | None
    status: str | None
    start_time: datetime | None
    end_time: datetime | None


def meeting_filters(query: dict[str, str]) -> MeetingFilters:
    status = query.get("status")
    if status is not None and status not in MEETING_STATUSES:
        raise InvalidInput(f"status must be ACTIVE or INACTIVE, got {status!r}")
    return MeetingFilters(
        search=query.get("search"),
        status=status,
        start_time=time_param(query, "start_time"),
        end_time=time_param(query, "end_time"),
    )


@dataclass(frozen=True)
class VoteFields:
    option: int
    voter_id: str
    voter_name: str


def vote_fields(body: dict[str, Any]) -> VoteFields:
    """Validate a vote body; voter_name defaults to voter_id."""
    if "option" not in body:
        raise InvalidInput("option is missing: give the 0-based index of an option")
    option = optional_int(body, "option", default=None, minimum=0)
    voter_id = required_string(body, "voter_id")
    voter_name = optional_string(body, "voter_name") or voter_id
    return VoteFields(option=option, voter_id=voter_id, voter_name=voter_name)


def fault_fields(body: dict[str, Any]) -> dict[str, Any]:
    """Validate a fault body and return the fault without an id."""
    path = required_string(body, "path")
    try:
        re.compile(path)
    except re.error as err:
        raise InvalidInput(f"path is not a valid regular expression ({err}): {path!r}") from None

    fault = {
        "method": _fault_method(body),
        "path": path,
        "status": _fault_status(body),
        "body": body.get("body"),
        "headers": _fault_headers(body),
        "delay_ms": optional_int(body, "delay_ms", default=0, minimum=0),
        "times": optional_int(body, "times", default=None, minimum=1),
        "cut": optional_bool(body, "cut"),
    }
    if fault["delay_ms"] > MAX_FAULT_DELAY_MS:
        raise InvalidInput(
            f"delay_ms must be at most {MAX_FAULT_DELAY_MS}, got {fault['delay_ms']}"
        )

    has_effect = fault["body"] is not None or any(
        fault[name] for name in ("status", "headers", "delay_ms", "cut")
    )
    if not has_effect:
        raise InvalidInput("fault has no effect: set status, body, headers, delay_ms or cut")
    return fault


def _fault_method(body: dict[str, Any]) -> str | None:
    method = optional_string(body, "method")
    if method is None:
        return None
    if method.upper() not in FAULT_METHODS:
        raise InvalidInput(f"method must be one of {', '.join(FAULT_METHODS)}, got {method!r}")
    return method.upper()


def _fault_status(body: dict[str, Any]) -> int | None:
    status = optional_int(body, "status", default=None, minimum=200)
    if status is not None and status > 599:
        raise InvalidInput(f"status must be between 200 and 599, got {status}")
    return status


def _fault_headers(body: dict[str, Any]) -> dict[str, str]:
    headers = body.get("headers") or {}
    if not isinstance(headers, dict):
        raise InvalidInput("headers must be an object of header names to string values")
    for name, value in headers.items():
        if not HEADER_NAME.fullmatch(name):
            raise InvalidInput(f"headers: {name!r} is not a valid header name")
        if name.lower() in FAULT_RESERVED_HEADERS:
            raise InvalidInput(f"headers: {name} is set by the sandbox; use cut for a short body")
        if not isinstance(value, str) or "\r" in value or "\n" in value:
            raise InvalidInput(f"headers: {name} must be a string without line breaks")
    return headers


def long_poll_params(query: dict[str, str]) -> tuple[int, float]:
    """Return since (a version, default 0) and wait (seconds, default 10, at most 25).

    wait accepts decimals such as 0.5, so tests can use short waits.
    """
    since = query.get("since", "0")
    if not re.fullmatch(r"[0-9]+", since):
        raise InvalidInput(f"since must be a version number of 0 or more, got {since!r}")

    wait = query.get("wait", str(DEFAULT_LONG_POLL_SECONDS))
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", wait) or float(wait) > MAX_LONG_POLL_SECONDS:
        raise InvalidInput(
            f"wait must be a number of seconds from 0 to {MAX_LONG_POLL_SECONDS}, got {wait!r}"
        )
    return int(since), float(wait)
