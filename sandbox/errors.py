"""Errors that handlers raise and the dispatchers turn into HTTP responses."""


class SandboxError(Exception):
    """Base class: carries the HTTP status and a message fit for the response body."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(SandboxError):
    status = 400


class Unauthorized(SandboxError):
    status = 401


class NotFound(SandboxError):
    status = 404


class Conflict(SandboxError):
    status = 409
