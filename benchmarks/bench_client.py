"""HTTP clients of the benchmark, the timing samples they record, and percentiles.

Every request has a timeout, so a load thread ends at most one timeout after its deadline.
"""

import html
import json
import math
import re
import threading
import time
from dataclasses import dataclass
from html.parser import HTMLParser

import requests

# The baseline view that bench_urls.py serves. It is defined here, so clients need no Django.
BASELINE_PATH = "bench/constant/"
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 30
SERVER_TIMING = re.compile(r"app;dur=([0-9.]+)")
# The element that refreshes itself carries `data-live` and the URL of its next request.
LIVE_ELEMENT = re.compile(r"<[^>]*\sdata-live[\s>][^>]*>")
HX_GET = re.compile(r'hx-get="([^"]*)"')


@dataclass
class Sample:
    """One response: its status, the client's and the server's time in ms, and its body size.

    `server_ms` is None when the response has no Server-Timing header, as for a redirect
    that an outer layer sends.
    """

    kind: str
    status: int | None
    client_ms: float
    server_ms: float | None
    body_bytes: int
    started: float


class SampleBook:
    """Samples of one phase, shared by its threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.samples: list[Sample] = []
        self.errors: list[str] = []

    def add(self, sample):
        with self.lock:
            self.samples.append(sample)

    def add_error(self, text):
        with self.lock:
            self.errors.append(text)

    def of_kind(self, kind, status=None):
        with self.lock:
            return [
                sample
                for sample in self.samples
                if sample.kind == kind and (status is None or sample.status == status)
            ]


def percentile(values, fraction):
    """Return the nearest-rank percentile of `values`, or None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Summary:
    count: int
    p50: float | None
    p95: float | None
    max: float | None


def summarize(values):
    values = [value for value in values if value is not None]
    return Summary(
        count=len(values),
        p50=percentile(values, 0.50),
        p95=percentile(values, 0.95),
        max=max(values) if values else None,
    )


class BenchClient:
    """One moderator's browser: a session cookie, a CSRF token and a kept-alive connection."""

    def __init__(self, base_url, session_cookie_name, session_key, book):
        self.base_url = base_url
        self.book = book
        self.session = requests.Session()
        self.csrf_token = ""
        self._fetch_csrf_cookie()
        self.session.cookies.set(session_cookie_name, session_key)

    def _fetch_csrf_cookie(self):
        # The login page sets the CSRF cookie for a visitor who is not logged in yet.
        response = self.session.get(
            f"{self.base_url}/login/", timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS)
        )
        response.raise_for_status()
        # With DEBUG off, the cookie is Secure. Browsers send it to a loopback host over plain
        # HTTP, and Requests does not unless the flag is cleared.
        for cookie in self.session.cookies:
            cookie.secure = False
            if cookie.name == "csrftoken":
                self.csrf_token = cookie.value
        if not self.csrf_token:
            raise RuntimeError("The login page set no csrftoken cookie.")

    def get(self, kind, path, *, htmx=False):
        headers = {"HX-Request": "true"} if htmx else {}
        return self._send(kind, "GET", path, headers=headers)

    def post_json(self, kind, path, body):
        """Send `body`, a dict or already encoded JSON, with the CSRF token, as fetch() does."""
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        headers = {
            "Content-Type": "application/json",
            "X-CSRFToken": self.csrf_token,
            "Origin": self.base_url,
        }
        return self._send(kind, "POST", path, headers=headers, data=data)

    def _send(self, kind, method, path, *, headers, data=None):
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                headers=headers,
                data=data,
                timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
                allow_redirects=False,
            )
        except requests.RequestException as error:
            self.book.add(Sample(kind, None, _ms_since(started), None, 0, started))
            self.book.add_error(f"{kind} {method} {path}: no response: {error}")
            return None
        self.book.add(
            Sample(
                kind,
                response.status_code,
                _ms_since(started),
                server_milliseconds(response),
                len(response.content),
                started,
            )
        )
        if response.status_code >= 500:
            self.book.add_error(f"{kind} {method} {path}: HTTP {response.status_code}")
        return response


def server_milliseconds(response):
    match = SERVER_TIMING.search(response.headers.get("Server-Timing", ""))
    return float(match.group(1)) if match else None


def live_url(text):
    """Return the next URL of the `data-live` element in a page or fragment, or None."""
    element = LIVE_ELEMENT.search(text)
    if element is None:
        return None
    url = HX_GET.search(element.group(0))
    return html.unescape(url.group(1)) if url else None


class LinkParser(HTMLParser):
    """Collects the hx-get URLs and the static files that a page references."""

    def __init__(self, text):
        super().__init__()
        self.hx_gets: list[str] = []
        self.assets: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("hx-get"):
            self.hx_gets.append(attributes["hx-get"])
        if tag == "script" and attributes.get("src"):
            self.assets.append(attributes["src"])
        if tag == "link" and attributes.get("href"):
            self.assets.append(attributes["href"])
        if tag == "img" and attributes.get("src"):
            self.assets.append(attributes["src"])


def _ms_since(started):
    return (time.monotonic() - started) * 1000
