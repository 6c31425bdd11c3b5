"""The benchmark's measured phases over HTTP: upstream calls, live fragments, forwarded
updates and the meeting page's transfer.

Each phase starts its own threads, runs them until a deadline and returns what it measured.
"""

import functools
import gzip
import itertools
import json
import math
import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

from benchmarks.bench_client import (
    BASELINE_PATH,
    CONNECT_TIMEOUT_SECONDS,
    READ_TIMEOUT_SECONDS,
    LinkParser,
    SampleBook,
    live_url,
    summarize,
)

BASELINE_URL = f"/{BASELINE_PATH}"
POLL_SECONDS = 1.0
FORWARD_INTERVAL_SECONDS = 0.5
# observer.js posts an unchanged state again after this long, which keeps the feed live.
HEARTBEAT_SECONDS = 5.0
OPTION_TEXTS = [f"Option {letter}" for letter in "ABCDEFGHIJKL"]
MAX_VOTERS = 12_000
# Each voter encoded once, so that building a body of 10,000 voters is a join, which keeps the
# load generator's share of the two cores small.
VOTER_JSON = [
    json.dumps({"id": f"voter-{number}", "name": f"Voter {number}"}) for number in range(MAX_VOTERS)
]
# At most this many baseline requests a second in all, so that the baseline adds little load.
BASELINE_PER_SECOND = 10
HASHED_NAME = re.compile(r"\.[0-9a-f]{12}\.[A-Za-z0-9]+$")
MAX_AGE = re.compile(r"max-age=(\d+)")
ONE_YEAR_SECONDS = 365 * 24 * 60 * 60


@dataclass
class Context:
    """The servers' URLs and the functions that every phase uses to log in and reset state.

    `new_sessions(count)` returns session keys of that many moderators, logged in.
    `reset_upstream()` resets the sandbox with its delay and empties the dashboard's cache.
    `poll_pk(upstream_id)` returns the dashboard's primary key of a forwarded poll.
    """

    dashboard_url: str
    sandbox: object
    session_cookie_name: str
    new_sessions: object
    reset_upstream: object
    poll_pk: object
    live_meetings: list[str]
    fresh_seconds: float
    rng: random.Random = field(default_factory=random.Random)

    def clients(self, count, book):
        from benchmarks.bench_client import BenchClient

        keys = self.new_sessions(count)
        return [
            BenchClient(self.dashboard_url, self.session_cookie_name, key, book) for key in keys
        ]


def run_threads(targets):
    threads = [threading.Thread(target=target, daemon=True) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(READ_TIMEOUT_SECONDS + CONNECT_TIMEOUT_SECONDS + 5)


def guarded(book, name, function):
    """Run `function`, keeping any exception as an error of the phase instead of losing it."""

    def run():
        try:
            function()
        except Exception as error:  # noqa: BLE001 - reported in the results as a bench error
            book.add_error(f"{name}: {type(error).__name__}: {error}")

    return run


def sleep_until(moment):
    delay = moment - time.monotonic()
    if delay > 0:
        time.sleep(delay)


# Upstream calls.


@dataclass
class UpstreamResult:
    moderators: int
    seconds: float
    calls: int
    rate_limited: int
    by_path: Counter
    windows: int
    pages: int
    errors: list[str]

    @property
    def max_per_path_per_window(self):
        busiest = max(self.by_path.values(), default=0)
        return busiest / self.windows if self.windows else None


def measure_upstream(context, moderators, seconds):
    """Let moderators refresh the meeting list, its badges and a meeting page for `seconds`,
    and count the Cloudflare API calls that the sandbox received meanwhile."""
    context.reset_upstream()
    book = SampleBook()
    clients = context.clients(moderators, book)
    context.sandbox.request("DELETE", "/requests").raise_for_status()
    deadline = time.monotonic() + seconds
    targets = [
        guarded(book, f"moderator {index}", functools.partial(_browse, context, client, deadline))
        for index, client in enumerate(clients)
    ]
    run_threads(targets)

    log = context.sandbox.json("GET", "/requests")["requests"]
    return UpstreamResult(
        moderators=moderators,
        seconds=seconds,
        calls=len(log),
        rate_limited=sum(1 for entry in log if entry["status"] == 429),
        by_path=Counter(entry["path"] for entry in log),
        windows=math.ceil(seconds / context.fresh_seconds),
        pages=len(book.samples),
        errors=book.errors,
    )


def _browse(context, client, deadline):
    rng = random.Random(context.rng.random())  # noqa: S311 - load timing, not secrets
    time.sleep(rng.uniform(0, POLL_SECONDS))
    while time.monotonic() < deadline:
        listing = client.get("meeting list", "/meetings/")
        if listing is not None and listing.status_code == 200:
            for badge in LinkParser(listing.text).hx_gets:
                if "/badge/" in badge:
                    client.get("badge", badge, htmx=True)
        client.get("meeting page", f"/meetings/{rng.choice(context.live_meetings)}/")
        time.sleep(POLL_SECONDS)


# Polls in the sandbox and the updates that observers forward.


class ForwardedPoll:
    """A poll created in a sandbox meeting, whose states are forwarded as an observer would."""

    def __init__(self, context, meeting_id, question, option_count):
        self.context = context
        self.meeting_id = meeting_id
        self.options = OPTION_TEXTS[:option_count]
        created = context.sandbox.json(
            "POST",
            f"/meetings/{meeting_id}/polls",
            json={"question": question, "options": self.options, "created_by": "Bench"},
        )
        self.upstream_id = created["poll"]["id"]
        self.question = question
        self.sync_path = f"/meetings/{meeting_id}/polls/sync"
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    def body(self, total):
        """Encode an update in which the poll has `total` named votes, spread evenly."""
        if total > MAX_VOTERS:
            raise ValueError(f"total is {total}; the bench names at most {MAX_VOTERS} voters")
        count = len(self.options)
        options = []
        first = 0
        for index, text in enumerate(self.options):
            votes = total // count + (1 if index < total % count else 0)
            voters = ",".join(VOTER_JSON[first : first + votes])
            option = json.dumps({"text": text, "count": votes})
            options.append(f'{option[:-1]}, "voters": [{voters}]}}')
            first += votes
        poll = json.dumps(
            {
                "id": self.upstream_id,
                "question": self.question,
                "anonymous": False,
                "hide_votes": False,
                "created_by": "Bench",
            }
        )
        return f'{{"polls": [{poll[:-1]}, "options": [{",".join(options)}]}}], "ended": false}}'

    def forward(self, client, total, kind="sync"):
        return client.post_json(kind, self.sync_path, self.body(total))

    def forward_first(self, client, total):
        """Forward the first state, which adds the poll to the dashboard, or raise RuntimeError."""
        response = self.forward(client, total, kind="first")
        if response is None:
            raise RuntimeError(f"The first update of poll {self.upstream_id} got no response.")
        if response.status_code != 200:
            detail = response.headers.get("Location") or response.text[:300]
            raise RuntimeError(
                f"The first update of poll {self.upstream_id} failed: "
                f"HTTP {response.status_code} {detail}"
            )

    def pk(self):
        return self.context.poll_pk(self.upstream_id)


def heartbeat(client, meeting_id, deadline, book):
    """Post an empty update every HEARTBEAT_SECONDS, as an observer page does with no news."""
    path = f"/meetings/{meeting_id}/polls/sync"
    while time.monotonic() < deadline:
        client.post_json("heartbeat", path, {"polls": [], "ended": False})
        time.sleep(min(HEARTBEAT_SECONDS, max(0.0, deadline - time.monotonic())))


# Live fragments.


def measure_fragments(context, moderators, seconds, poll, *, changer_total=None):
    """Let moderators poll the poll's live results every second for `seconds`. Half a second
    after a fragment, a moderator sometimes requests the baseline view too, so that the
    baseline runs under the same load at no more than BASELINE_PER_SECOND requests a second.

    With `changer_total`, one observer forwards a new state with one more vote every
    FORWARD_INTERVAL_SECONDS, starting above that total, so most fragments find a change.
    """
    book = SampleBook()
    clients = context.clients(moderators + 1, book)
    feeder, moderator_clients = clients[0], clients[1:]
    pk = poll.pk()
    deadline = time.monotonic() + seconds
    # Each moderator requests the baseline every `every` seconds, at offsets spread evenly.
    every = max(1, math.ceil(moderators / BASELINE_PER_SECOND))
    targets = [
        guarded(
            book,
            f"moderator {index}",
            functools.partial(_watch, client, pk, deadline, book, (index % every, every)),
        )
        for index, client in enumerate(moderator_clients)
    ]
    if changer_total is None:
        feed = functools.partial(heartbeat, feeder, poll.meeting_id, deadline, book)
    else:
        feed = functools.partial(_change, feeder, poll, changer_total, deadline)
    run_threads([*targets, guarded(book, "observer", feed)])
    return book


def _watch(client, pk, deadline, book, baseline_turn):
    page = client.get("poll page", f"/polls/{pk}/")
    url = live_url(page.text) if page is not None and page.status_code == 200 else None
    if url is None:
        status = "no response" if page is None else f"HTTP {page.status_code}"
        book.add_error(f"poll page {pk} ({status}) has no data-live element")
        return
    moment = time.monotonic() + random.uniform(0, POLL_SECONDS)  # noqa: S311
    offset, every = baseline_turn
    for tick in itertools.count():
        if moment >= deadline:
            return
        sleep_until(moment)
        response = client.get("fragment", url, htmx=True)
        if response is not None and response.status_code == 200:
            url = live_url(response.text) or url
        if tick % every == offset:
            sleep_until(moment + POLL_SECONDS / 2)
            client.get("baseline", BASELINE_URL, htmx=True)
        moment += POLL_SECONDS


def _change(client, poll, start_total, deadline):
    total = start_total
    moment = time.monotonic()
    while moment < deadline:
        sleep_until(moment)
        total += 1
        poll.forward(client, total, kind="change")
        moment += FORWARD_INTERVAL_SECONDS


# Forwarded updates.


def measure_single_forwards(context, poll, votes, updates):
    """Forward `updates` states of the poll one after another, each with one more vote and
    followed by one request of the baseline view. Return the samples and the body size of
    the last update."""
    book = SampleBook()
    (client,) = context.clients(1, book)
    poll.forward_first(client, votes)
    for step in range(1, updates + 1):
        poll.forward(client, votes + step)
        client.get("baseline", BASELINE_URL)
    return book, len(poll.body(votes + updates).encode())


@dataclass
class ForwardLoad:
    forwarders: int
    seconds: float
    scheduled: int
    sent: int
    lags_ms: list[float]
    unchanged: int
    book: SampleBook

    @property
    def backlog(self):
        """Whether the forwarders fell behind: a send was not made before the deadline, or
        the p95 lag behind the schedule exceeds one interval."""
        lag = summarize(self.lags_ms).p95 or 0.0
        return self.sent < self.scheduled or lag > FORWARD_INTERVAL_SECONDS * 1000


def measure_forward_load(context, poll, votes, forwarders, seconds):
    """Let `forwarders` observers each post a new state every FORWARD_INTERVAL_SECONDS on a
    fixed schedule, with votes that grow across all of them."""
    book = SampleBook()
    clients = context.clients(forwarders, book)
    (first,) = context.clients(1, book)
    poll.forward_first(first, votes)
    totals = itertools.count(votes + 1)
    lock = threading.Lock()
    lags: list[float] = []
    outcome = Counter()
    started = time.monotonic() + 0.2
    deadline = started + seconds

    def forward_on_schedule(index, client):
        moment = started + index * FORWARD_INTERVAL_SECONDS / forwarders
        # A forwarder that has fallen behind stops at the deadline, and its unsent posts count.
        while moment < deadline and time.monotonic() < deadline:
            sleep_until(moment)
            lag_ms = (time.monotonic() - moment) * 1000
            with lock:
                total = next(totals)
            response = poll.forward(client, total)
            with lock:
                lags.append(lag_ms)
                outcome["sent"] += 1
                accepted = response is not None and response.status_code == 200
                if accepted and not response.json().get("changed"):
                    outcome["unchanged"] += 1
            moment += FORWARD_INTERVAL_SECONDS

    run_threads(
        [
            guarded(book, f"forwarder {index}", functools.partial(forward_on_schedule, index, c))
            for index, c in enumerate(clients)
        ]
    )
    per_forwarder = math.ceil(seconds / FORWARD_INTERVAL_SECONDS)
    return ForwardLoad(
        forwarders=forwarders,
        seconds=seconds,
        scheduled=per_forwarder * forwarders,
        sent=outcome["sent"],
        lags_ms=lags,
        unchanged=outcome["unchanged"],
        book=book,
    )


# The meeting page's transfer.


@dataclass
class Asset:
    url: str
    wire_bytes: int
    encoding: str
    cache_control: str
    hashed: bool

    @property
    def cached_for_a_year(self):
        match = MAX_AGE.search(self.cache_control)
        return bool(match) and int(match.group(1)) >= ONE_YEAR_SECONDS


def measure_transfer(context, meeting_id, sdk_url):
    """Fetch the meeting page and every static file it references as a browser would, with
    compression accepted, and return the page's and each file's bytes on the wire.

    The RealtimeKit SDK, which observer.js loads from another origin, is left out.
    """
    book = SampleBook()
    (client,) = context.clients(1, book)
    page = _fetch_raw(client.session, f"{context.dashboard_url}/meetings/{meeting_id}/")
    html = _decompress(page.raw_body, page.encoding).decode("utf-8", errors="replace")
    assets = []
    for reference in dict.fromkeys(LinkParser(html).assets):
        if reference == sdk_url or "/sandbox/" in reference:
            continue
        url = reference if "://" in reference else context.dashboard_url + reference
        fetched = _fetch_raw(client.session, url)
        assets.append(
            Asset(
                url=urlsplit(url).path,
                wire_bytes=fetched.wire_bytes,
                encoding=fetched.encoding,
                cache_control=fetched.response.headers.get("Cache-Control", ""),
                hashed=bool(HASHED_NAME.search(urlsplit(url).path)),
            )
        )
    return page, assets


def _decompress(body, encoding):
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "br":
        import brotli  # only needed when the server sends Brotli, which needs this package too

        return brotli.decompress(body)
    return body


@dataclass
class RawFetch:
    response: requests.Response
    raw_body: bytes
    wire_bytes: int
    encoding: str


def _fetch_raw(session, url):
    """GET `url` accepting gzip and Brotli; count the status line, headers and body as sent."""
    response = session.get(
        url,
        headers={"Accept-Encoding": "gzip, br"},
        stream=True,
        timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
    )
    raw_body = response.raw.read(decode_content=False)
    header_bytes = len(f"HTTP/1.1 {response.status_code} {response.reason}\r\n") + sum(
        len(f"{name}: {value}\r\n") for name, value in response.raw.headers.items()
    )
    response.close()
    return RawFetch(
        response=response,
        raw_body=raw_body,
        wire_bytes=header_bytes + 2 + len(raw_body),
        encoding=response.headers.get("Content-Encoding", ""),
    )
