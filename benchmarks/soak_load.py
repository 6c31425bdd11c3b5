"""The load of a soak run: moderators using the dashboard, a fault injector and a voter.

Each runs in its own thread until the shared Clock's deadline or until it is stopped. Every
HTTP request has a timeout, so a thread ends at most one request timeout after the deadline.
"""

import functools
import html
import itertools
import re
import threading
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

import requests

# Seconds to connect and to read one response from the dashboard or the sandbox.
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 30
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
SEARCH_TERMS = ["update", "town", "webinar", "office", "customer", "workshop"]
OPTION_TEXTS = ["Lyon", "Osaka", "Nairobi", "Lima", "Oslo", "Perth", "Quito", "Tunis"]
# Calls to Cloudflare that each dashboard request makes when nothing fails, read in
# polls/views.py, polls/services.py and polls/observer.py: a meeting page reads the meeting and
# its session, and a launch reads the session and creates the poll. An observer token reads the
# session, plus one call that mints or refreshes the participant on the first or a refresh=1
# request. A poll page and a sync read only the database.
UPSTREAM_CALLS = {
    "meeting list": 1,
    "badge": 1,
    "meeting page": 2,
    "launch": 2,
    "observer token": 1,
    "observer token, minted or refreshed": 2,
}

CONFIRMED = "confirmed"
UNCONFIRMED = "unconfirmed"
STILL_LAUNCHING = "still launching"
NO_LIVE_SESSION = "no live session"
FAILED = "failed"
INVALID = "invalid form"
SERVER_ERROR = "server error"
NO_RESPONSE = "no response"
MEETING_NOT_SHOWN = "meeting page failed"
UNEXPECTED = "unexpected response"
# The outcomes of a launch, in the order that decides a launch sent twice: the first one that
# either response had.
OUTCOMES = [
    CONFIRMED,
    UNCONFIRMED,
    SERVER_ERROR,
    STILL_LAUNCHING,
    NO_LIVE_SESSION,
    FAILED,
    MEETING_NOT_SHOWN,
    INVALID,
    UNEXPECTED,
    NO_RESPONSE,
]


class Clock:
    """The deadline of a run and the event that stops it early, shared by every thread."""

    def __init__(self, seconds):
        self.started = time.monotonic()
        self.deadline = self.started + seconds
        self.stopped = threading.Event()

    def running(self):
        return not self.stopped.is_set() and time.monotonic() < self.deadline

    def remaining(self):
        return max(0.0, self.deadline - time.monotonic())

    def pause(self, seconds):
        """Wait up to `seconds`, less when the run ends first; return whether it still runs."""
        self.stopped.wait(min(seconds, self.remaining()))
        return self.running()

    def stop(self):
        self.stopped.set()


class CallBudget:
    """A token bucket that paces the moderators' calls to Cloudflare below its rate limit.

    The sandbox, like Cloudflare, responds with 429 after 1,200 calls with one token in a fixed
    300-second window, and the dashboard then blocks every call for the whole window.
    The bucket refills at `calls_per_window / window_seconds` and holds at most `burst` calls.
    The charges are the calls a request makes when nothing fails (UPSTREAM_CALLS), so retries
    after injected faults come on top: they are why a run's budget stays below 1,200.
    """

    def __init__(self, *, calls_per_window, window_seconds, burst, clock):
        self.rate = calls_per_window / window_seconds
        self.capacity = burst
        self.tokens = float(burst)
        self.updated = time.monotonic()
        self.clock = clock
        self.lock = threading.Lock()

    def spend(self, calls):
        """Wait until `calls` tokens are there and take them; return False if the run ends first."""
        while True:
            with self.lock:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= calls:
                    self.tokens -= calls
                    return self.clock.running()
                wait = (calls - self.tokens) / self.rate
            if not self.clock.pause(wait):
                return False


@dataclass
class RequestRecord:
    """One request sent to the dashboard: its status (None without a response) and duration."""

    kind: str
    method: str
    path: str
    status: int | None
    seconds: float
    error: str = ""
    # Sent again because the server closed the connection before responding (see _send).
    resent: bool = False


class RequestStats:
    """Every request sent to the dashboard, shared by the moderators."""

    def __init__(self):
        self.lock = threading.Lock()
        self.request_records: list[RequestRecord] = []
        self.soak_errors: list[str] = []

    def record(self, request_record):
        with self.lock:
            self.request_records.append(request_record)

    def record_soak_error(self, where):
        """Keep the traceback of an exception in the soak test's own code."""
        with self.lock:
            self.soak_errors.append(f"{where}:\n{traceback.format_exc()}")

    def snapshot(self):
        with self.lock:
            return list(self.request_records), list(self.soak_errors)


@dataclass
class Submit:
    outcome: str
    status: int | None
    poll_pk: int | None = None
    message: str = ""


@dataclass
class LaunchRecord:
    """One poll form as the moderator filled it in, and the response to each time it was sent."""

    launch_key: str
    question: str
    meeting_id: str
    moderator: str
    mode: str
    submits: list[Submit] = field(default_factory=list)

    @property
    def outcome(self):
        """Return the launch's outcome as the moderator saw it, in the order of OUTCOMES."""
        outcomes = {submit.outcome for submit in self.submits}
        for outcome in OUTCOMES:
            if outcome in outcomes:
                return outcome
        return NO_RESPONSE

    @property
    def poll_pks(self):
        return {submit.poll_pk for submit in self.submits if submit.poll_pk is not None}


class LaunchBook:
    """Every launch of the run; numbers the questions so that each launch key has its own."""

    def __init__(self, run_id):
        self.run_id = run_id
        self.question_prefix = f"Soak {run_id} poll "
        self.lock = threading.Lock()
        self.numbers = itertools.count(1)
        self.records: list[LaunchRecord] = []

    def new_record(self, *, launch_key, meeting_id, moderator, mode):
        with self.lock:
            number = next(self.numbers)
            record = LaunchRecord(
                launch_key=launch_key,
                question=f"{self.question_prefix}{number}: which city next?",
                meeting_id=meeting_id,
                moderator=moderator,
                mode=mode,
            )
            self.records.append(record)
            return record

    def snapshot(self):
        with self.lock:
            return list(self.records)


class PageParser(HTMLParser):
    """Collects what a moderator reads or sends from a dashboard page."""

    def __init__(self, text):
        super().__init__()
        self.inputs: dict[str, str] = {}
        self.hx_gets: list[str] = []
        self.links: list[str] = []
        self.classes: set[str] = set()
        self.alerts: list[str] = []
        # The data-* attributes of the element with id="observer", which starts live results.
        self.observer: dict[str, str] | None = None
        self._alert_depth = 0
        self._alert_text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        self.classes.update(classes)
        if tag == "input" and attributes.get("name"):
            self.inputs.setdefault(attributes["name"], attributes.get("value") or "")
        if attributes.get("hx-get"):
            self.hx_gets.append(attributes["hx-get"])
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if attributes.get("id") == "observer":
            self.observer = {name: value or "" for name, value in attrs if name.startswith("data-")}
        if tag == "p" and self._alert_depth:
            self._alert_depth += 1
        elif tag == "p" and "error" in classes and attributes.get("role") == "alert":
            self._alert_depth = 1
            self._alert_text = []

    def handle_endtag(self, tag):
        if tag == "p" and self._alert_depth:
            self._alert_depth -= 1
            if not self._alert_depth:
                self.alerts.append(" ".join("".join(self._alert_text).split()))

    def handle_data(self, data):
        if self._alert_depth:
            self._alert_text.append(data)


class DashboardClient:
    """One browser's worth of the dashboard: a cookie jar and the requests it sends."""

    def __init__(self, base_url, stats):
        self.base_url = base_url
        self.stats = stats
        self.session = requests.Session()

    def clone(self):
        """Return a second client with the same cookies, as a second tab of the same browser."""
        twin = DashboardClient(self.base_url, self.stats)
        twin.session.cookies.update(self.session.cookies)
        return twin

    def get(self, kind, path, *, htmx=False, current_path=None):
        return self._send(kind, "GET", path, htmx=htmx, current_path=current_path)

    def post(self, kind, path, data, *, htmx=False, current_path=None, headers=None):
        return self._send(
            kind, "POST", path, data=data, htmx=htmx, current_path=current_path, headers=headers
        )

    def post_json(self, kind, path, body, *, csrf_token):
        """Send `body` as JSON with the CSRF token in X-CSRFToken, as fetch() in a page does."""
        headers = {"X-CSRFToken": csrf_token}
        return self._send(kind, "POST", path, json=body, htmx=False, headers=headers)

    def _send(
        self, kind, method, path, *, htmx, current_path=None, data=None, json=None, headers=None
    ):
        headers = {**(headers or {}), **({"Origin": self.base_url} if method == "POST" else {})}
        if htmx:
            headers["HX-Request"] = "true"
            headers["HX-Current-URL"] = self.base_url + (current_path or path)
            if data and "csrfmiddlewaretoken" in data:
                headers["X-CSRFToken"] = data["csrfmiddlewaretoken"]

        send = functools.partial(
            self.session.request,
            method,
            self.base_url + path,
            data=data,
            json=json,
            headers=headers,
            timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
            allow_redirects=False,
        )
        started = time.monotonic()
        try:
            response = send()
        except requests.ConnectionError as error:
            # A kept-alive connection that the server closed just as the request went out: a
            # browser sends such a request once more on a new connection, and so does this.
            if "RemoteDisconnected" not in str(error):
                return self._no_response(kind, method, path, started, error)
            self.stats.record(
                RequestRecord(kind, method, path, None, 0.0, error=str(error), resent=True)
            )
            try:
                response = send()
            except requests.RequestException as again:
                return self._no_response(kind, method, path, started, again)
        except requests.RequestException as error:
            return self._no_response(kind, method, path, started, error)
        seconds = time.monotonic() - started
        self.stats.record(RequestRecord(kind, method, path, response.status_code, seconds))
        self._allow_secure_cookies_over_loopback()
        return response

    def _no_response(self, kind, method, path, started, error):
        seconds = time.monotonic() - started
        self.stats.record(RequestRecord(kind, method, path, None, seconds, error=str(error)))
        return None

    def _allow_secure_cookies_over_loopback(self):
        """Send Secure cookies over plain HTTP to a loopback host, as browsers do for localhost.

        With DJANGO_DEBUG=false the session and CSRF cookies are Secure, and the soak test
        serves the dashboard over plain HTTP on 127.0.0.1. Requests copies the cookies into a
        jar with the default policy for each request, so the flag is cleared on the cookies
        themselves rather than by a cookie policy.
        """
        if urlsplit(self.base_url).hostname not in LOOPBACK_HOSTS:
            return
        for cookie in self.session.cookies:
            cookie.secure = False


def log_in(client, username, password, clock):
    """Log in through the form; return False if the run ends first.

    Tries three times, since a fault could hit the login too, then raises RuntimeError.
    """
    for _attempt in range(3):
        page = client.get("login page", "/login/")
        if page is not None and page.status_code == 200:
            token = PageParser(page.text).inputs.get("csrfmiddlewaretoken", "")
            form = {
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": token,
                "next": "",
            }
            response = client.post("login", "/login/", form)
            if response is not None and response.status_code == 302:
                return True
        if not clock.pause(1):
            return False
    raise RuntimeError(f"{username} could not log in three times in a row")


class Moderator(threading.Thread):
    """Logs in, then browses meetings, opens live ones and launches polls until the deadline."""

    def __init__(
        self, *, username, password, base_url, clock, stats, budget, launches, rng, meeting_ids
    ):
        super().__init__(name=username, daemon=True)
        self.username = username
        self.password = password
        self.client = DashboardClient(base_url, stats)
        self.clock = clock
        self.stats = stats
        self.budget = budget
        self.launches = launches
        self.rng = rng
        # Meetings the seed makes ACTIVE: the choice when no badge has loaded yet.
        self.active_meetings = list(meeting_ids)
        self.live_meetings: set[str] = set()
        self.idle_meetings: set[str] = set()

    def run(self):
        try:
            if not log_in(self.client, self.username, self.password, self.clock):
                return
            while self.clock.running():
                self._one_round()
                self.clock.pause(self.rng.uniform(0.2, 1.0))
        except Exception:  # noqa: BLE001 - reported with its traceback at the end of the run
            self.stats.record_soak_error(f"moderator {self.username}")

    def _one_round(self):
        if not self.live_meetings or self.rng.random() < 0.25:
            self._browse_meetings()
        if not self.clock.running():
            return

        meeting_id = self._choose_meeting()
        page = self._open_meeting(meeting_id)
        if page is None or "launch_key" not in page.inputs or not self.clock.running():
            return
        self.clock.pause(self.rng.uniform(0.2, 1.5))  # typing the question
        if self.clock.running():
            self._launch(meeting_id, page)

    def _browse_meetings(self):
        if not self.budget.spend(UPSTREAM_CALLS["meeting list"]):
            return
        if self.rng.random() < 0.2:
            # The search box: htmx sends the query and swaps in the results only.
            path = f"/meetings/?q={self.rng.choice(SEARCH_TERMS)}"
            response = self.client.get("meeting list", path, htmx=True, current_path="/meetings/")
        else:
            path = "/meetings/"
            response = self.client.get("meeting list", path)
        if response is None or response.status_code != 200:
            return

        badge_paths = [url for url in PageParser(response.text).hx_gets if "/badge/" in url]
        for badge_path in badge_paths:
            if not self.budget.spend(UPSTREAM_CALLS["badge"]):
                return
            meeting_id = badge_path.strip("/").split("/")[1]
            badge = self.client.get("badge", badge_path, htmx=True, current_path=path)
            if badge is None or badge.status_code != 200:
                continue
            classes = PageParser(badge.text).classes
            if "badge-live" in classes:
                self.live_meetings.add(meeting_id)
                self.idle_meetings.discard(meeting_id)
            elif "badge-off" in classes:
                self.live_meetings.discard(meeting_id)
                self.idle_meetings.add(meeting_id)

    def _choose_meeting(self):
        # Mostly a live meeting, and sometimes one without a live session, where a launch must fail.
        if self.live_meetings and (not self.idle_meetings or self.rng.random() < 0.9):
            return self.rng.choice(sorted(self.live_meetings))
        if self.idle_meetings:
            return self.rng.choice(sorted(self.idle_meetings))
        return self.rng.choice(self.active_meetings)

    def _open_meeting(self, meeting_id):
        if not self.budget.spend(UPSTREAM_CALLS["meeting page"]):
            return None
        response = self.client.get("meeting page", f"/meetings/{meeting_id}/")
        if response is None:
            return None
        page = PageParser(response.text)
        if "live" in page.classes:
            self.live_meetings.add(meeting_id)
        elif response.status_code == 200 and "idle" in page.classes:
            self.live_meetings.discard(meeting_id)
        return page

    def _launch(self, meeting_id, page):
        """Send the meeting page's poll form once, twice in a row, or twice at once."""
        draw = self.rng.random()
        if draw < 0.1:
            mode = "twice at once"
        elif draw < 0.2:
            mode = "twice in a row"
        else:
            mode = "once"
        # Sent twice at once, both requests may read the session before either finds the
        # other's reservation, so that costs one more call.
        first_cost = UPSTREAM_CALLS["launch"] + (1 if mode == "twice at once" else 0)
        if not self.budget.spend(first_cost):
            return

        record = self.launches.new_record(
            launch_key=page.inputs["launch_key"],
            meeting_id=meeting_id,
            moderator=self.username,
            mode=mode,
        )
        form = {
            "csrfmiddlewaretoken": page.inputs.get("csrfmiddlewaretoken", ""),
            "launch_key": record.launch_key,
            "question": record.question,
            "options": self.rng.sample(OPTION_TEXTS, k=self.rng.randint(2, 4)),
        }
        htmx = self.rng.random() < 0.3

        if mode == "twice at once":
            twin = self.client.clone()
            second = threading.Thread(
                target=lambda: record.submits.append(self._submit(twin, meeting_id, form, htmx)),
                daemon=True,
            )
            second.start()
            record.submits.append(self._submit(self.client, meeting_id, form, htmx))
            second.join(CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS + 5)
            return

        record.submits.append(self._submit(self.client, meeting_id, form, htmx))
        if mode == "twice in a row" and self.budget.spend(UPSTREAM_CALLS["launch"]):
            record.submits.append(self._submit(self.client, meeting_id, form, htmx))

    def _submit(self, client, meeting_id, form, htmx):
        meeting_path = f"/meetings/{meeting_id}/"
        response = client.post(
            "launch", f"{meeting_path}polls/", form, htmx=htmx, current_path=meeting_path
        )
        if response is None:
            return Submit(NO_RESPONSE, None)
        status = response.status_code

        if status == 302:
            match = re.fullmatch(r"/polls/(\d+)/", response.headers.get("Location", ""))
            if not match:
                return Submit(UNEXPECTED, status, message=response.headers.get("Location", ""))
            poll_page = client.get("poll page", match.group(0))
            if poll_page is not None and poll_page.status_code != 200:
                return Submit(UNEXPECTED, poll_page.status_code, int(match.group(1)), "poll page")
            return Submit(CONFIRMED, status, int(match.group(1)))

        if not htmx:
            # A plain form post that fails renders the meeting page again, which reads the
            # meeting and its session once more.
            self.budget.spend(UPSTREAM_CALLS["meeting page"])
        page = PageParser(response.text)
        if status == 200 and htmx and "success" in page.classes:
            pks = [re.fullmatch(r"/polls/(\d+)/", link) for link in page.links]
            pk = next((int(match.group(1)) for match in pks if match), None)
            if pk is not None and self.rng.random() < 0.5:
                client.get("poll page", f"/polls/{pk}/")
            return Submit(CONFIRMED, status, pk)
        if status >= 500 and status != 502:
            return Submit(SERVER_ERROR, status)
        if status == 422:
            return Submit(INVALID, status, message=" ".join(page.alerts))
        return Submit(
            _classify_launch_error(status, page.alerts), status, message=" ".join(page.alerts)
        )


def _classify_launch_error(status, alerts):
    """Name the outcome that a launch's error response states in its error messages.

    A plain form post that fails shows the whole meeting page again, so when the meeting
    cannot be read at that moment, the page shows that error in place of the launch's.
    """
    text = html.unescape(" ".join(alerts))
    if status not in (404, 409, 502):
        return UNEXPECTED
    if "may or may not" in text:
        return UNCONFIRMED
    if "already being launched" in text:
        return STILL_LAUNCHING
    if "Nobody is in this meeting" in text:
        return NO_LIVE_SESSION
    if "The poll was not launched" in text:
        return FAILED
    if "Could not load this meeting" in text:
        return MEETING_NOT_SHOWN
    return UNEXPECTED


class SandboxControl:
    """The sandbox's control API under /sandbox/, which needs no token and has no rate limit."""

    def __init__(self, base_url):
        self.base_url = f"{base_url}/sandbox"
        self.session = requests.Session()

    def request(self, method, path, **kwargs):
        timeout = (CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS)
        return self.session.request(method, self.base_url + path, timeout=timeout, **kwargs)

    def json(self, method, path, **kwargs):
        response = self.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()


FAULT_TARGETS = [
    ("meeting list", "GET", r"/meetings$"),
    ("one meeting", "GET", r"/meetings/[0-9a-f-]+$"),
    ("active session", "GET", r"/active-session$"),
    ("poll create", "POST", r"/active-session/poll$"),
]
FAULT_STATUSES = [400, 401, 403, 404, 409, 429, 500, 502, 503, 504]
FAULT_KINDS = ["status", "status", "delay", "HTML body", "invalid JSON", "cut"]


@dataclass
class InjectedFault:
    id: str
    target: str
    kind: str
    times: int


class FaultInjector(threading.Thread):
    """Adds a random fault to the sandbox every few seconds until the deadline."""

    def __init__(self, *, control, clock, rng, stats):
        super().__init__(name="fault injector", daemon=True)
        self.control = control
        self.clock = clock
        self.rng = rng
        self.stats = stats
        self.injected: list[InjectedFault] = []
        self.rejected: list[str] = []

    def run(self):
        try:
            while self.clock.pause(self.rng.uniform(2.0, 5.0)):
                target, fields, kind = self._make_fault()
                response = self.control.request("POST", "/faults", json=fields)
                if response.status_code == 201:
                    fault = response.json()["fault"]
                    self.injected.append(InjectedFault(fault["id"], target, kind, fields["times"]))
                else:
                    self.rejected.append(f"{response.status_code} {response.text[:200]}")
        except Exception:  # noqa: BLE001 - reported with its traceback at the end of the run
            self.stats.record_soak_error("fault injector")

    def _make_fault(self):
        target, method, path = self.rng.choice(FAULT_TARGETS)
        fields = {"method": method, "path": path, "times": self.rng.randint(1, 5)}
        kind = self.rng.choice(FAULT_KINDS)

        if kind == "status":
            status = self.rng.choice(FAULT_STATUSES)
            kind = f"HTTP {status}"
            fields["status"] = status
            fields["body"] = _gateway_error(status)
            if status == 429:
                fields["headers"] = {"Retry-After": str(self.rng.randint(1, 3))}
        elif kind == "delay":
            fields["delay_ms"] = self.rng.randint(3000, 4000)
        elif kind == "HTML body":
            status = self.rng.choice([200, 502, 503])
            kind = f"HTML body, HTTP {status}"
            fields["status"] = status
            fields["body"] = "<html><body><h1>Bad gateway</h1><p>Soak test</p></body></html>"
        elif kind == "invalid JSON":
            fields["status"] = 200
            fields["body"] = '{"success": true, "data": {"poll": '
            fields["headers"] = {"Content-Type": "application/json"}
        else:
            fields["cut"] = True
        return target, fields, kind


def _gateway_error(status):
    """Build an error body in Cloudflare's v4 envelope for an injected status."""
    if status == 429:
        code, message = 10100, "Rate limited"
    else:
        code, message = 10000 + status, "Injected by the soak test"
    return {"success": False, "errors": [{"code": code, "message": message}], "messages": []}


class Voter(threading.Thread):
    """Casts votes on the run's polls through the sandbox, each by a new voter id.

    One vote in twenty repeats an earlier voter on the same poll, which the sandbox must
    reject with 409 and not count.
    """

    REFRESH_SECONDS = 2.0

    def __init__(self, *, control, clock, rng, stats, question_prefix, run_id):
        super().__init__(name="voter", daemon=True)
        self.control = control
        self.clock = clock
        self.rng = rng
        self.stats = stats
        self.question_prefix = question_prefix
        self.run_id = run_id
        self.accepted = 0
        self.repeats_rejected = 0
        self.repeats_accepted = 0
        self.other_statuses: Counter = Counter()
        self.voters_by_poll: dict[tuple[str, str], list[str]] = defaultdict(list)

    def run(self):
        try:
            self._vote_until_deadline()
        except Exception:  # noqa: BLE001 - reported with its traceback at the end of the run
            self.stats.record_soak_error("voter")

    def _vote_until_deadline(self):
        polls = []
        refreshed = 0.0
        voter_numbers = itertools.count(1)
        while self.clock.pause(self.rng.uniform(0.05, 0.2)):
            if time.monotonic() - refreshed > self.REFRESH_SECONDS:
                polls = self._list_polls()
                refreshed = time.monotonic()
            if not polls:
                continue

            meeting_id, poll_id, option_count = self.rng.choice(polls)
            earlier = self.voters_by_poll[(meeting_id, poll_id)]
            repeat = bool(earlier) and self.rng.random() < 0.05
            voter_id = (
                self.rng.choice(earlier) if repeat else f"soak-{self.run_id}-{next(voter_numbers)}"
            )
            response = self.control.request(
                "POST",
                f"/meetings/{meeting_id}/polls/{poll_id}/votes",
                json={"option": self.rng.randrange(option_count), "voter_id": voter_id},
            )
            self._count(response.status_code, repeat, (meeting_id, poll_id), voter_id)

    def _count(self, status, repeat, poll, voter_id):
        if repeat and status == 409:
            self.repeats_rejected += 1
        elif repeat and status == 201:
            self.repeats_accepted += 1
        elif status == 201:
            self.accepted += 1
            self.voters_by_poll[poll].append(voter_id)
        else:
            self.other_statuses[status] += 1

    def _list_polls(self):
        meetings = self.control.json("GET", "/meetings")["meetings"]
        return [
            (meeting["id"], poll["id"], len(poll["options"]))
            for meeting in meetings
            for poll in meeting["polls"]
            if poll["question"].startswith(self.question_prefix) and poll["options"]
        ]
