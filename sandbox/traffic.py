"""Request log, injected faults and rate-limit counters for the Cloudflare API paths."""

import math
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

# Cloudflare's global API limit per user or account token.
RATE_LIMIT = 1200
RATE_WINDOW_SECONDS = 300
# Bounds memory when a dashboard polls a long-running sandbox; the oldest entries go first.
MAX_LOGGED_REQUESTS = 10_000


@dataclass(frozen=True)
class RateStatus:
    allowed: bool
    remaining: int
    reset_after: int

    def headers(self) -> dict[str, str]:
        """Build the Ratelimit headers in the draft IETF format that Cloudflare sends."""
        return {
            "Ratelimit": f'"default";r={self.remaining};t={self.reset_after}',
            "Ratelimit-Policy": f'"default";q={RATE_LIMIT};w={RATE_WINDOW_SECONDS}',
        }


@dataclass
class Fault:
    id: str
    method: str | None
    path: str
    status: int | None
    body: Any
    headers: dict[str, str]
    delay_ms: int
    times: int | None
    cut: bool
    remaining: int | None
    matched: int = 0
    pattern: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        self.pattern = re.compile(self.path)

    @property
    def replaces_response(self) -> bool:
        """Whether the fault sends its own response in place of the normal one."""
        return self.status is not None or self.body is not None

    def matches(self, method: str, path: str) -> bool:
        if self.remaining == 0:
            return False
        if self.method is not None and self.method != method:
            return False
        return self.pattern.search(path) is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "body": self.body,
            "headers": dict(self.headers),
            "delay_ms": self.delay_ms,
            "times": self.times,
            "cut": self.cut,
            "remaining": self.remaining,
            "matched": self.matched,
        }


class Traffic:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._requests: deque[dict[str, Any]] = deque(maxlen=MAX_LOGGED_REQUESTS)
            self._faults: list[Fault] = []
            self._rate_windows: dict[str, tuple[float, int]] = {}

    def count_request(self, token: str) -> RateStatus:
        """Count one request against the token's fixed 300-second window."""
        now = time.monotonic()
        with self._lock:
            started, count = self._rate_windows.get(token, (now, 0))
            if now - started >= RATE_WINDOW_SECONDS:
                started, count = now, 0
            count += 1
            self._rate_windows[token] = (started, count)

        reset_after = max(1, math.ceil(RATE_WINDOW_SECONDS - (now - started)))
        return RateStatus(count <= RATE_LIMIT, max(0, RATE_LIMIT - count), reset_after)

    def log_request(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._requests.append(entry)

    def list_requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self._requests]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def add_fault(self, fields: dict[str, Any]) -> dict[str, Any]:
        fault = Fault(id=str(uuid.uuid4()), remaining=fields["times"], **fields)
        with self._lock:
            self._faults.append(fault)
            return fault.to_dict()

    def list_faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.to_dict() for fault in self._faults]

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def take_fault(self, method: str, path: str) -> Fault | None:
        """Return the oldest fault that matches and count the match against its times."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.matched += 1
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    return fault
        return None
