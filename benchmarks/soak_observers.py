"""Observer pages of a soak run, doing over HTTP what static/js/observer.js does in a browser.

An observer logs in as a moderator and keeps one page open on each live meeting. Each page
requests the observer's token from the dashboard, long-polls the sandbox's stand-in for RealtimeKit's
browser SDK (sandbox/browser_sdk.py), and forwards each new state of the meeting's polls to the
dashboard's sync endpoint. As in observer.js, a page has at most one post in flight, posts at
most once per SEND_INTERVAL_SECONDS, always sends the latest state, and sends an unchanged state
again after HEARTBEAT_SECONDS.

NOTE: observer.js long-polls and posts at the same time, while a page here does one after the
other in a single thread. The dashboard receives the same sequence of posts either way, because
the next long-poll returns at once with whatever changed during a post. A page here also sends
every poll in each post, where observer.js sends only the polls that changed since the last
accepted post, so these posts cost the dashboard more than a browser's do.
"""

import random
import re
import threading
import time
from collections import Counter

import requests

from benchmarks.soak_load import (
    CONNECT_TIMEOUT_SECONDS,
    READ_TIMEOUT_SECONDS,
    UPSTREAM_CALLS,
    DashboardClient,
    PageParser,
    log_in,
)

# The timings of observer.js and of the stand-in SDK's sdk.js, in seconds.
SEND_INTERVAL_SECONDS = 0.3
HEARTBEAT_SECONDS = 5.0
RETRY_DELAYS_SECONDS = (1, 2, 5, 10, 30)
LONG_POLL_SECONDS = 10
# observer.js gives up after a 409 from the token endpoint (no live session, or an unfit
# preset) or a 403 from the sync endpoint. The moderator reloads the page after 10 to 20 s.
RELOAD_SECONDS = (10.0, 20.0)
# How often a page of a moderator's second browser fails to join on purpose, as after a network
# error. observer.js then requests a refreshed token, which RealtimeKit issues in place of the
# old one, so the first browser's SDK gets 401 and has to fetch the token again.
JOIN_FAILURE_SECONDS = (20.0, 40.0)
FINAL_FORWARD_ATTEMPTS = 3
SDK_PATH = re.compile(r"/sandbox/sdk\.js([?#].*)?$")
WARNING = re.compile(r'<p class="warning" role="status">(.*?)</p>', re.DOTALL)


class ConnectError(Exception):
    """A failed step of joining or watching, with the flags observer.js sorts failures by.

    `at_join` requests a refreshed token on the next attempt, `final` stops the page until the
    moderator reloads it, and `retry_after` is the wait in seconds that the dashboard's error
    response requests, or None.
    """

    def __init__(self, reason, *, status=None, at_join=False, final=False, retry_after=None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.at_join = at_join
        self.final = final
        self.retry_after = retry_after


class ObserverStats:
    """Counters of the observer pages' events and SDK responses, and their rejected sync posts.

    All pages share one. Their requests to the dashboard are recorded in RequestStats.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.events: Counter = Counter()
        self.sdk_statuses: Counter = Counter()
        self.rejected_syncs: list[str] = []

    def count(self, event, number=1):
        with self.lock:
            self.events[event] += number

    def count_sdk(self, endpoint, status):
        with self.lock:
            self.sdk_statuses[(endpoint, status)] += 1

    def record_rejected_sync(self, text):
        with self.lock:
            self.rejected_syncs.append(text)

    def snapshot(self):
        with self.lock:
            return {
                "events": Counter(self.events),
                "sdk_statuses": Counter(self.sdk_statuses),
                "rejected_syncs": list(self.rejected_syncs),
            }


def to_update(poll):
    """Reshape a poll as the SDK reports it into the body item that the sync endpoint takes.

    Mirrors toUpdate in observer.js, including its defaults for missing fields.
    """
    anonymous = bool(poll.get("anonymous"))
    return {
        "id": str(poll.get("id")),
        "question": str(poll.get("question") or ""),
        "anonymous": anonymous,
        "hide_votes": bool(poll.get("hideVotes")),
        "created_by": str(poll.get("createdBy") or ""),
        "options": [_option_update(option, anonymous) for option in poll.get("options") or []],
    }


def _option_update(option, anonymous):
    votes = [] if anonymous else option.get("votes") or []
    voters = [{"id": str(vote.get("id")), "name": str(vote.get("name") or "")} for vote in votes]
    return {
        "text": str(option.get("text") or ""),
        "count": max(_whole_number(option.get("count")), len(voters)),
        "voters": voters,
    }


def _whole_number(value):
    # JavaScript's Math.round(Number(value) || 0): anything that is not a finite number is 0.
    try:
        number = float(value or 0)
    except (TypeError, ValueError):
        return 0
    return round(number) if number == number and abs(number) != float("inf") else 0


class SdkClient:
    """The sandbox endpoints behind its stand-in browser SDK, called as sdk.js calls them."""

    def __init__(self, sdk_url, stats):
        self.base_url = SDK_PATH.sub("", sdk_url)
        self.stats = stats
        self.session = requests.Session()

    def participant(self, token):
        return self._get("participant", {"token": token}, wait=0)

    def polls(self, token, *, since, wait):
        params = {"token": token, "since": since, "wait": f"{wait:.2f}"}
        return self._get("polls", params, wait=wait)

    def _get(self, endpoint, params, *, wait):
        try:
            response = self.session.get(
                f"{self.base_url}/sandbox/sdk/{endpoint}",
                params=params,
                timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS + wait),
            )
        except requests.RequestException as error:
            self.stats.count_sdk(endpoint, "no response")
            raise ConnectError(f"no response from the sandbox ({type(error).__name__})") from error
        self.stats.count_sdk(endpoint, response.status_code)
        if response.status_code != 200:
            raise ConnectError(f"sandbox HTTP {response.status_code}", status=response.status_code)
        return response.json()


class ObserverPage:
    """One observer's page on one live meeting, run in its own thread by Observer."""

    def __init__(
        self, *, name, meeting_id, clock, budget, request_stats, stats, rng, injects_join_failures
    ):
        self.name = name
        # Set by Observer once it has logged in.
        self.client: DashboardClient | None = None
        self.meeting_id = meeting_id
        self.clock = clock
        self.budget = budget
        self.request_stats = request_stats
        self.stats = stats
        self.rng = rng
        self.injects_join_failures = injects_join_failures
        self.next_join_failure = float("inf")
        self.config: dict | None = None
        self.sdk: SdkClient | None = None
        self.token: str | None = None
        self.failures = 0
        self.version = 0
        self.session_id = None
        self.latest: list | None = None
        self.pending = False
        self.ended = False
        self.last_sent = 0.0

    def run(self):
        try:
            while self.clock.running():
                if self._open_page():
                    self._connect_until_stopped()
                self.clock.pause(self.rng.uniform(*RELOAD_SECONDS))
        except Exception:  # noqa: BLE001 - reported with its traceback at the end of the run
            self.request_stats.record_soak_error(self.name)

    def forward_final(self):
        """Read the meeting's polls once more and send them; return whether a post got HTTP 200.

        Called after the run, so it spends no call budget and pauses with time.sleep.
        """
        refresh = False
        for attempt in range(FINAL_FORWARD_ATTEMPTS):
            if attempt:
                time.sleep(1)
            try:
                if self._forward_once(refresh=refresh):
                    self.stats.count("final forward sent")
                    return True
            except ConnectError as error:
                refresh = error.status == 401
        self.stats.count("final forward failed")
        return False

    def _forward_once(self, *, refresh):
        if self.config is None and not self._open_page():
            raise ConnectError("the meeting page shows no live results")
        if self.token is None or refresh:
            self._fetch_token(refresh=refresh)
        answer = self.sdk.polls(self.token, since=0, wait=0)
        if answer["live"]:
            self.latest = answer["polls"]
        return self.latest is not None and self._send("sync (final)")

    def _open_page(self):
        """Load the meeting page and read #observer; return False when it is not there."""
        if not self._spend(UPSTREAM_CALLS["meeting page"]):
            return False
        response = self.client.get("observer page", f"/meetings/{self.meeting_id}/")
        if response is None or response.status_code != 200:
            status = "no response" if response is None else f"HTTP {response.status_code}"
            self.stats.count(f"page without live results: {status}")
            return False
        page = PageParser(response.text)
        if page.observer is None:
            warning = WARNING.search(response.text)
            reason = " ".join(warning.group(1).split()) if warning else "no live results section"
            self.stats.count(f"page without live results: {reason}")
            return False
        self.config = page.observer
        self.sdk = SdkClient(self.config["data-sdk-url"], self.stats)
        self.stats.count("page with live results")
        return True

    def _connect_until_stopped(self):
        """Join, watch and join again after failures as observer.js does, until the run ends,
        the session ends, or a 409 or 403 from the dashboard stops the page."""
        refresh = False
        while self.clock.running():
            try:
                self._connect(refresh=refresh)
                return
            except ConnectError as error:
                if error.final:
                    self.stats.count(f"stopped until reload: {error.reason}")
                    return
                refresh = self._plan_retry(error)

    def _plan_retry(self, error):
        """Wait the delay observer.js waits; return whether the next attempt sends refresh=1."""
        self.failures += 1
        delay = RETRY_DELAYS_SECONDS[min(self.failures, len(RETRY_DELAYS_SECONDS)) - 1]
        if error.retry_after:
            delay = max(delay, float(error.retry_after))
        self.clock.pause(delay)
        return error.at_join

    def _connect(self, *, refresh):
        if not self._fetch_token(refresh=refresh):
            return
        answer = self._join()
        self.failures = 0
        self._watch(answer)

    def _fetch_token(self, *, refresh):
        """Ask the dashboard for the observer's token; return False if the run ends first."""
        first = self.token is None
        cost = "observer token, minted or refreshed" if first or refresh else "observer token"
        if not self._spend(UPSTREAM_CALLS[cost]):
            return False
        if refresh:
            self.stats.count("token requests with refresh=1")
        response = self.client.post(
            "observer token",
            self.config["data-token-url"],
            {"refresh": "1"} if refresh else {},
            headers={"X-CSRFToken": self.config["data-csrf-token"]},
        )
        if response is None:
            raise ConnectError("no response to the token request")
        body = _json_object(response)
        if response.status_code == 200 and body.get("token"):
            self.token = body["token"]
            return True
        raise ConnectError(
            f"token request HTTP {response.status_code}",
            status=response.status_code,
            final=response.status_code == 409,
            retry_after=body.get("retry_after"),
        )

    def _join(self):
        """Do what init() and join() in sdk.js do. After any failure here, the next attempt
        requests a refreshed token."""
        try:
            self.sdk.participant(self.token)
            answer = self.sdk.polls(self.token, since=0, wait=0)
        except ConnectError as error:
            self.stats.count(f"join failed: {error.reason}")
            error.at_join = True
            raise
        if not answer["live"]:
            self.stats.count("join failed: no live session")
            raise ConnectError("no live session", status=404, at_join=True)
        self.stats.count("joined")
        return answer

    def _watch(self, answer):
        self.version = answer["version"]
        self.session_id = answer["session_id"]
        self._queue(answer["polls"])
        self._schedule_join_failure()
        while self.clock.running():
            if time.monotonic() >= self.next_join_failure:
                self.stats.count("join failures injected")
                raise ConnectError("injected join failure", at_join=True)
            self._send_if_due()
            try:
                answer = self.sdk.polls(self.token, since=self.version, wait=self._wait_seconds())
            except ConnectError as error:
                self.stats.count(f"disconnected: {error.reason}")
                raise
            if not answer["live"] or answer["session_id"] != self.session_id:
                self._end_session()
                return
            if answer["version"] > self.version:
                self.version = answer["version"]
                self._queue(answer["polls"])

    def _schedule_join_failure(self):
        if self.injects_join_failures:
            self.next_join_failure = time.monotonic() + self.rng.uniform(*JOIN_FAILURE_SECONDS)

    def _end_session(self):
        # As roomLeft with state "ended": the last known polls go once more, marked ended.
        self.ended = True
        self._send("sync")

    def _queue(self, polls):
        self.stats.count("poll states received")
        self.latest = polls
        self.pending = True

    def _send_if_due(self):
        since_sent = time.monotonic() - self.last_sent
        if self.pending and since_sent >= SEND_INTERVAL_SECONDS:
            self._send("sync")
        elif since_sent >= HEARTBEAT_SECONDS:
            self.stats.count("heartbeats")
            self._send("sync")

    def _wait_seconds(self):
        """Return how long the next long-poll may wait: until the next post is due at most."""
        now = time.monotonic()
        due = self.last_sent + (SEND_INTERVAL_SECONDS if self.pending else HEARTBEAT_SECONDS)
        limits = [
            LONG_POLL_SECONDS,
            due - now,
            self.next_join_failure - now,
            self.clock.remaining(),
        ]
        return max(0.0, min(limits))

    def _send(self, kind):
        """Post the latest state; return whether the dashboard returned HTTP 200."""
        self.pending = False
        self.last_sent = time.monotonic()
        body = {"polls": [to_update(poll) for poll in self.latest], "ended": self.ended}
        response = self.client.post_json(
            kind, self.config["data-sync-url"], body, csrf_token=self.config["data-csrf-token"]
        )
        # No response and 5xx are in the request records. observer.js leaves them to the next
        # update or heartbeat, so they need nothing more here.
        if response is None or response.status_code >= 500:
            return False
        if response.status_code == 200:
            return True
        error = _json_object(response).get("error") or response.text[:200]
        self.stats.record_rejected_sync(f"{self.name}: HTTP {response.status_code}: {error}")
        if response.status_code == 403:
            # observer.js stops here and shows a message to reload the page.
            raise ConnectError("sync HTTP 403", status=403, final=True)
        return False

    def _spend(self, calls):
        # The final forward comes after the run, when the budget no longer hands out calls.
        return self.budget.spend(calls) if self.clock.running() else True


class Observer(threading.Thread):
    """Logs in as a moderator, then keeps one ObserverPage open on each live meeting."""

    def __init__(
        self,
        *,
        name,
        username,
        password,
        base_url,
        meeting_ids,
        clock,
        budget,
        request_stats,
        stats,
        rng,
        injects_join_failures,
    ):
        super().__init__(name=name, daemon=True)
        self.username = username
        self.password = password
        self.client = DashboardClient(base_url, request_stats)
        self.clock = clock
        self.request_stats = request_stats
        self.pages = [
            ObserverPage(
                name=f"{name}, meeting …{meeting_id[-2:]}",
                meeting_id=meeting_id,
                clock=clock,
                budget=budget,
                request_stats=request_stats,
                stats=stats,
                rng=random.Random(rng.getrandbits(32)),  # noqa: S311 - not for secrets
                injects_join_failures=injects_join_failures,
            )
            for meeting_id in meeting_ids
        ]

    def run(self):
        try:
            if not log_in(self.client, self.username, self.password, self.clock):
                return
        except Exception:  # noqa: BLE001 - reported with its traceback at the end of the run
            self.request_stats.record_soak_error(self.name)
            return
        threads = []
        for page in self.pages:
            # Each page is a tab of the same browser: the same cookies, its own connection.
            page.client = self.client.clone()
            threads.append(threading.Thread(target=page.run, name=page.name, daemon=True))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def forward_final(self):
        """Send one final forward from each page that logged in; return how many got HTTP 200."""
        return sum(page.forward_final() for page in self.pages if page.client is not None)


def _json_object(response):
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
