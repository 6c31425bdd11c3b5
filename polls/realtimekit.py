"""The one module that talks to Cloudflare's RealtimeKit API.

Every call goes through `RealtimeKitClient.request`, which applies the timeouts, retries reads
where repeating is harmless, logs one line per attempt, passes the rate limit that each response
reports to an optional recorder, and turns every failure into a `RealtimeKitError` whose message
a moderator can act on.

API reference: https://developers.cloudflare.com/api/resources/realtime_kit/
"""

import http.cookiejar
import logging
import math
import re
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

logger = logging.getLogger(__name__)

# Statuses where the same read can succeed a moment later.
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
RETRY_BACKOFF_SECONDS = 0.25

# A parameter of a rate-limit header item, such as `r=1187`. Values are non-negative integers.
_LIMIT_PARAMETER = re.compile(r"([a-z][a-z0-9_.*-]*)=([0-9]{1,15})", re.ASCII)

_sessions = threading.local()


class RealtimeKitError(Exception):
    """A failed Cloudflare call, with a message fit for a moderator.

    `status` is the HTTP status (None when no response arrived) and `code` the upstream error
    code when Cloudflare sent one. `retryable` is true when sending the same request again at
    once may succeed. `outcome_unknown` is true when a change was sent but no response came
    back, so it may or may not have been made. `retry_after` is the wait in seconds that
    Cloudflare asked for with a 429.
    """

    def __init__(
        self,
        message,
        *,
        status=None,
        code=None,
        retryable=False,
        upstream_message="",
        outcome_unknown=False,
        retry_after=None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.retryable = retryable
        self.upstream_message = upstream_message
        self.outcome_unknown = outcome_unknown
        self.retry_after = retry_after


@dataclass(frozen=True)
class RateLimit:
    """The rate limit that one response reported in its `Ratelimit` and `Ratelimit-Policy` headers.

    `quota` (requests per window) and `window_seconds` are None when the response had no usable
    `Ratelimit-Policy` for the limit.
    """

    remaining: int
    reset_seconds: int
    quota: int | None = None
    window_seconds: int | None = None


@dataclass(frozen=True)
class MeetingPage:
    meetings: list
    total_count: int
    page: int
    per_page: int

    @property
    def page_count(self):
        return max(1, -(-self.total_count // self.per_page))

    @property
    def has_next(self):
        return self.page < self.page_count

    @property
    def has_previous(self):
        return self.page > 1


class RealtimeKitClient:
    def __init__(
        self,
        *,
        base_url,
        account_id,
        app_id,
        api_token,
        connect_timeout,
        read_timeout,
        read_retries,
        cooldown=None,
        rate_budget=None,
    ):
        self.base_url = base_url.rstrip("/")
        self.account_id = account_id
        self.app_path = f"/accounts/{account_id}/realtime/kit/{app_id}"
        self.timeout = (connect_timeout, read_timeout)
        self.read_retries = read_retries
        self.cooldown = cooldown
        # Any object with `record(rate_limit)`, called with the RateLimit of every response
        # that reports one, successful or not.
        self.rate_budget = rate_budget
        self.headers = {"Authorization": f"Bearer {api_token}", "Accept": "application/json"}

    def list_meetings(self, *, search="", page=1, per_page=10):
        params = {"page_no": page, "per_page": per_page}
        if search:
            params["search"] = search
        body = self.request("GET", f"{self.app_path}/meetings", params=params)

        paging = body.get("paging") or {}
        return MeetingPage(
            meetings=body.get("data") or [],
            total_count=int(paging.get("total_count", 0)),
            page=page,
            per_page=per_page,
        )

    def get_meeting(self, meeting_id):
        return self.request("GET", f"{self.app_path}/meetings/{meeting_id}")["data"]

    def get_active_session(self, meeting_id):
        """Return the meeting's live session, or None when nobody is in the meeting."""
        try:
            body = self.request("GET", f"{self.app_path}/meetings/{meeting_id}/active-session")
        except RealtimeKitError as error:
            if error.status == 404:
                return None
            raise

        session = body.get("data")
        # Cloudflare may still return a session that has just ended: treat it as not live.
        if not session or session.get("status") != "LIVE":
            return None
        return session

    def create_poll(self, meeting_id, *, question, options, anonymous, hide_votes):
        """Create a poll in the meeting's live session and return the poll object.

        Never retried: after a timeout the poll may exist upstream, and a blind repeat would
        put a second copy in front of the audience.
        """
        body = self.request(
            "POST",
            f"{self.app_path}/meetings/{meeting_id}/active-session/poll",
            json={
                "question": question,
                "options": options,
                "anonymous": anonymous,
                "hide_votes": hide_votes,
            },
        )
        poll = (body.get("data") or {}).get("poll")
        if not isinstance(poll, dict) or not poll.get("id"):
            raise RealtimeKitError(
                "Cloudflare accepted the poll but did not return it. Check the meeting before "
                "launching again, so the audience does not see it twice.",
                status=200,
            )
        return poll

    def find_preset(self, name):
        """Return the app's preset called `name` with its permissions, or None when none is.

        The list gives only names and ids; the permissions come with the preset itself.
        """
        body = self.request("GET", f"{self.app_path}/presets", params={"search": name})
        match = next(
            (p for p in body.get("data") or [] if isinstance(p, dict) and p.get("name") == name),
            None,
        )
        if match is None or not match.get("id"):
            return None
        return self.request("GET", f"{self.app_path}/presets/{match['id']}").get("data") or {}

    def add_participant(self, meeting_id, *, custom_participant_id, preset_name, name):
        """Add a participant to the meeting and return it, with the token it joins with."""
        body = self.request(
            "POST",
            f"{self.app_path}/meetings/{meeting_id}/participants",
            json={
                "custom_participant_id": custom_participant_id,
                "preset_name": preset_name,
                "name": name,
            },
        )
        return _with_token(body, "Cloudflare added the observer but returned no token.")

    def refresh_participant_token(self, meeting_id, participant_id):
        """Return a new token for the participant.

        Raises RealtimeKitError, with status 404 when the participant is not found.
        """
        body = self.request(
            "POST", f"{self.app_path}/meetings/{meeting_id}/participants/{participant_id}/token"
        )
        return _with_token(body, "Cloudflare refreshed the observer's token but returned none.")[
            "token"
        ]

    def verify_token(self):
        """Return the token's status from Cloudflare's token check: active, disabled or expired.

        Account-owned tokens are checked under the account and user tokens under /user, so an
        account check that rejects the token is followed by a user check.
        """
        try:
            body = self.request("GET", f"/accounts/{self.account_id}/tokens/verify")
        except RealtimeKitError as error:
            if error.status not in (400, 401, 403, 404):
                raise
            body = self.request("GET", "/user/tokens/verify")
        return str((body.get("result") or {}).get("status", "unknown"))

    def request(self, method, path, **kwargs):
        """Send one API call and return the decoded success body, or raise RealtimeKitError.

        While a cooldown from an earlier 429 runs, raises at once without calling Cloudflare,
        because every call in that time would only extend the block.
        """
        if self.cooldown and (wait := self.cooldown.remaining_seconds()):
            raise _rate_limited(math.ceil(wait))

        attempts = 1 + (self.read_retries if method == "GET" else 0)
        for attempt in range(1, attempts + 1):
            try:
                return self._send(method, path, **kwargs)
            except RealtimeKitError as error:
                if error.status == 429 and self.cooldown:
                    self.cooldown.start(error.retry_after)
                if not error.retryable or attempt == attempts:
                    raise
                logger.info("Retrying %s %s after %s (attempt %d)", method, path, error, attempt)
                time.sleep(RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def _send(self, method, path, **kwargs):
        started = time.monotonic()
        try:
            response = _thread_session().request(
                method, self.base_url + path, headers=self.headers, timeout=self.timeout, **kwargs
            )
            body = _decode(response)
        except requests.RequestException as error:
            failure = _transport_error(error, self.base_url, method, self.timeout)
            _log_call(method, path, None, started, failure)
            raise failure from error

        self._record_rate_limit(response)
        failure = _response_error(response, body, method)
        _log_call(method, path, response.status_code, started, failure)
        if failure:
            raise failure
        return body

    def _record_rate_limit(self, response):
        if self.rate_budget is None:
            return
        rate_limit = parse_rate_limit(response.headers)
        if rate_limit is None:
            return
        try:
            self.rate_budget.record(rate_limit)
        except Exception:
            # The reading only feeds a status panel. Raising here, after Cloudflare made a
            # change such as a new poll, would report that change as failed.
            logger.warning("Could not record Cloudflare's rate limit", exc_info=True)


def parse_rate_limit(headers):
    """Read the rate limit from a response's headers, or return None when they lack a usable one.

    Cloudflare sends them in the format of an IETF draft, e.g.
    `Ratelimit: "default";r=1187;t=253` with `Ratelimit-Policy: "default";q=1200;w=300`. Items
    that do not match the format are skipped rather than raised on (tested with malformed
    values). When several limits are listed, the
    one with the fewest requests remaining is the one that blocks first.
    """
    limits = _limit_items(headers.get("Ratelimit", ""), "r", "t")
    if not limits:
        return None
    name, (remaining, reset_seconds) = min(limits.items(), key=lambda item: item[1][0])
    quota, window_seconds = _limit_items(headers.get("Ratelimit-Policy", ""), "q", "w").get(
        name, (None, None)
    )
    return RateLimit(remaining, reset_seconds, quota, window_seconds)


def _limit_items(header, first_key, second_key):
    """Return {name: (first, second)} for each item of the header list that has both keys."""
    items = {}
    for item in header.split(","):
        name, *parameters = (part.strip() for part in item.split(";"))
        values = dict(
            match.groups() for part in parameters if (match := _LIMIT_PARAMETER.fullmatch(part))
        )
        if first_key in values and second_key in values:
            items[name.strip('"')] = (int(values[first_key]), int(values[second_key]))
    return items


def _with_token(body, message):
    data = body.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("token"), str) or not data["token"]:
        raise RealtimeKitError(f"{message} Try again in a moment.", status=200)
    return data


def _thread_session():
    """Return this thread's requests.Session, so calls reuse open connections to Cloudflare.

    A client lives for one page or fragment, and a session of its own would open a new
    connection, with a new TLS handshake, for every one of them. Sessions are not shared
    between threads because requests does not promise that they are thread-safe. The session
    keeps no cookies, because it serves every organisation's calls.
    """
    session = getattr(_sessions, "session", None)
    if session is None:
        session = _sessions.session = requests.Session()
        session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return session


def _log_call(method, path, status, started, failure):
    elapsed_ms = (time.monotonic() - started) * 1000
    # A 404 is a normal state, such as a meeting nobody is in, rather than a fault.
    if failure is None or failure.status == 404:
        logger.info("Cloudflare %s %s -> %s in %.0f ms", method, path, status, elapsed_ms)
        return
    logger.warning(
        "Cloudflare %s %s -> %s in %.0f ms: code %s, %s",
        method,
        path,
        status or "no response",
        elapsed_ms,
        failure.code,
        failure.upstream_message or failure.message,
    )


def _decode(response):
    """Return the JSON body, or None when the body is not JSON (an HTML error page, say)."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _transport_error(error, base_url, method, timeout):
    host = urlsplit(base_url).netloc
    sent_a_change = method != "GET"
    if isinstance(error, requests.ConnectTimeout):
        return RealtimeKitError(
            f"Connecting to Cloudflare at {host} timed out after {timeout[0]:g} s. "
            "Try again in a moment.",
            retryable=True,
        )
    if isinstance(error, requests.ReadTimeout):
        # A slow response is likely to be slow again, so the request is not repeated at once.
        return RealtimeKitError(
            _outcome_message(f"Cloudflare did not respond within {timeout[1]:g} s", method),
            outcome_unknown=sent_a_change,
        )
    if isinstance(error, requests.ConnectionError) and _never_connected(error):
        return RealtimeKitError(
            f"Could not connect to Cloudflare at {host}. Check the network and the API base URL, "
            "then try again.",
            retryable=True,
        )
    return RealtimeKitError(
        _outcome_message("The connection to Cloudflare broke off", method),
        retryable=not sent_a_change,
        outcome_unknown=sent_a_change,
    )


def _never_connected(error):
    text = str(error)
    return "Connection refused" in text or "Failed to establish a new connection" in text


def _outcome_message(cause, method):
    if method == "GET":
        return f"{cause}. Try again in a moment."
    return (
        f"{cause}, so the change may or may not have been made. Check the meeting in "
        "RealtimeKit before trying again, so the audience does not see it twice."
    )


def _response_error(response, body, method):
    """Return the RealtimeKitError that the response stands for, or None on success."""
    status = response.status_code
    if body is None and status >= 400:
        # An error page from a proxy in front of the API: the status still shows what failed.
        message = _moderator_message(status, None, "", None)
        return RealtimeKitError(message, status=status, retryable=status in RETRYABLE_STATUSES)
    if body is None:
        # A 2xx to a change most likely means the change was made, even if the body is unreadable.
        cause = f"Cloudflare sent a response that is not JSON (HTTP {status})"
        return RealtimeKitError(
            _outcome_message(cause, method), status=status, outcome_unknown=method != "GET"
        )
    if 200 <= status < 300 and body.get("success") is not False:
        return None

    code, upstream_message = _upstream_error(body)
    retry_after = _retry_after_seconds(response) if status == 429 else None
    return RealtimeKitError(
        _moderator_message(status, code, upstream_message, retry_after),
        status=status,
        code=code,
        retryable=status in RETRYABLE_STATUSES,
        upstream_message=upstream_message,
        retry_after=retry_after,
    )


def _retry_after_seconds(response):
    """Return Retry-After in whole seconds, or None when it is missing or not a number."""
    try:
        seconds = int(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _upstream_error(body):
    """Read the code and message from either error shape Cloudflare uses."""
    error = body.get("error")
    if isinstance(error, dict):
        return error.get("code"), str(error.get("message") or "")
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return errors[0].get("code"), str(errors[0].get("message") or "")
    return None, ""


def _moderator_message(status, code, upstream_message, retry_after):
    detail = f" Cloudflare said: {upstream_message}" if upstream_message else ""
    if status == 401:
        return f"Cloudflare rejected the API token as missing or malformed. Ask an admin to check it.{detail}"
    if status == 403:
        return (
            "Cloudflare rejected the API token: it is wrong, revoked, or lacks the Realtime "
            f"permission for this account. Ask an admin to check it.{detail}"
        )
    if status == 404:
        return f"Cloudflare could not find that meeting or app.{detail}"
    if status == 429:
        return _rate_limit_message(retry_after)
    if status >= 500:
        return f"Cloudflare had a server error (HTTP {status}). Try again in a moment."
    if 200 <= status < 300:
        return f"Cloudflare reported a failure.{detail}"
    return f"Cloudflare rejected the request (HTTP {status}).{detail}"


def _rate_limit_message(retry_after):
    wait = f"{retry_after} seconds" if retry_after is not None else "a few minutes"
    return (
        "Cloudflare's rate limit for this API token was reached, so the dashboard holds back "
        f"its calls to Cloudflare for {wait}. Reload the page after that."
    )


def _rate_limited(retry_after):
    return RealtimeKitError(_rate_limit_message(retry_after), status=429, retry_after=retry_after)
