"""Request and response objects and a small path router shared by the API and control areas."""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import parse_qs, unquote

from .errors import InvalidInput

JSON_CONTENT_TYPE = "application/json"


@dataclass
class Request:
    method: str
    path: str
    raw_query: str
    headers: Message
    body: bytes
    params: dict[str, str] = field(default_factory=dict)

    @property
    def query(self) -> dict[str, str]:
        """Query parameters with blank values left out; the last of repeated names wins."""
        parsed = parse_qs(self.raw_query, keep_blank_values=True)
        return {name: values[-1] for name, values in parsed.items() if values[-1] != ""}

    def json(self) -> Any:
        """Decode the body as UTF-8 JSON, raising InvalidInput when it is empty or invalid."""
        if not self.body:
            raise InvalidInput("Request body is empty: send a JSON object")
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError as err:
            raise InvalidInput(f"Request body is not valid UTF-8: {err}") from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            raise InvalidInput(f"Request body is not valid JSON: {err}") from None

    def json_object(self, *, optional: bool = False) -> dict[str, Any]:
        """Decode the body as a JSON object; with optional=True an empty body is {}."""
        if optional and not self.body:
            return {}
        value = self.json()
        if not isinstance(value, dict):
            raise InvalidInput("Request body must be a JSON object")
        return value


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def set_header(self, name: str, value: str) -> None:
        """Set a header, replacing any header of the same name in any letter case."""
        for existing in [key for key in self.headers if key.lower() == name.lower()]:
            del self.headers[existing]
        self.headers[name] = value


def json_response(status: int, payload: Any) -> Response:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return Response(status, body, {"Content-Type": JSON_CONTENT_TYPE})


Handler = Callable[..., Response]


class RouteNotFound(Exception):
    pass


class MethodNotAllowed(Exception):
    def __init__(self, allowed: list[str]) -> None:
        super().__init__(", ".join(allowed))
        self.allowed = allowed


class Router:
    """Map a method and a path pattern such as /meetings/{meeting_id} to a handler."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")

        def register(handler: Handler) -> Handler:
            self._routes.append((method, regex, handler))
            return handler

        return register

    def include(self, other: "Router") -> None:
        """Add the other router's routes after this one's."""
        self._routes.extend(other._routes)

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        """Return the handler and the decoded path parameters.

        Raises RouteNotFound when no pattern matches the path, and MethodNotAllowed when
        patterns match but none for this method.
        """
        allowed = []
        for route_method, regex, handler in self._routes:
            found = regex.match(path)
            if found is None:
                continue
            if route_method == method:
                return handler, {name: unquote(value) for name, value in found.groupdict().items()}
            allowed.append(route_method)
        if allowed:
            raise MethodNotAllowed(allowed)
        raise RouteNotFound(path)
