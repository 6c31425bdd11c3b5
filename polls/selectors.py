"""Reads: what the dashboard shows, from Cloudflare and from the database."""

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db.models import Prefetch
from django.utils import timezone

from polls.models import Poll, PollOption
from polls.realtimekit import RealtimeKitError
from polls.services import client_for

MEETINGS_PER_PAGE = 10
# How long a read is kept, to be shown while Cloudflare's rate limit blocks calls.
LAST_KNOWN_SECONDS = 24 * 60 * 60
# How long a failed read is handed to the requests that waited for it. Short, so that a page
# reloaded after a fault calls Cloudflare again.
ERROR_REUSE_SECONDS = 1
# The maximum time a fetch may take (connect and read timeouts, retries) before another request
# may take over. The fetching request frees its turn as soon as it is done.
TURN_SECONDS = 30
# Requests with no earlier value wait this long for the fetching one, then fetch themselves.
WAIT_SECONDS = 3
WAIT_STEP_SECONDS = 0.02


@dataclass(frozen=True)
class Read:
    """A value read from Cloudflare, or the last one read when Cloudflare asked to wait.

    `as_of` is None for a fresh value. For an earlier one it is when that value was read,
    and `error` is the rate-limit error that stopped the fresh read.
    """

    value: object
    as_of: datetime | None = None
    error: RealtimeKitError | None = None


def list_meetings(*, organisation, search, page):
    query = hashlib.sha256(f"{search}\n{page}".encode()).hexdigest()
    return shared_read(
        organisation,
        f"meetings:{query}",
        lambda: client_for(organisation).list_meetings(
            search=search, page=page, per_page=MEETINGS_PER_PAGE
        ),
    )


def get_meeting(*, organisation, meeting_id):
    return shared_read(
        organisation,
        f"meeting:{meeting_id}",
        lambda: client_for(organisation).get_meeting(meeting_id),
    )


def get_live_session(*, organisation, meeting_id):
    """Read the live session, with `started_at` as a datetime, or None when nobody is in."""
    return shared_read(
        organisation, f"session:{meeting_id}", lambda: _fetch_live_session(organisation, meeting_id)
    )


def _fetch_live_session(organisation, meeting_id):
    session = client_for(organisation).get_active_session(meeting_id)
    if session is None:
        return None
    return {**session, "started_at": _parse_timestamp(session.get("started_at"))}


def shared_read(organisation, key, fetch, window=None):
    """Return a Read of `fetch()`, shared through the cache by every page, worker and machine.

    A value younger than the freshness window (`window` seconds, by default
    REALTIMEKIT_READ_FRESH_SECONDS) is reused. Once it is older, one request fetches
    it again (the single flight) while the others go on with the previous value or, when there
    is none, wait for the fetching one. A value stays in the cache for a day so that a page can
    show it while Cloudflare's rate limit blocks calls.
    """
    cache_key = read_key(organisation, key)
    window = settings.REALTIMEKIT_READ_FRESH_SECONDS if window is None else window
    entry = cache.get(cache_key)
    if window <= 0:
        return _fetch_into(cache_key, entry, fetch, window).read()
    if entry is not None and entry.fresh:
        return entry.read()
    if not _take_turn(cache_key):
        entry = entry or _wait_for_entry(cache_key)
        if entry is not None:
            return entry.read()
        # The fetching request is taking too long: better one more call than a failed page.
        return _fetch_into(cache_key, None, fetch, window).read()
    try:
        # A request that read the old value just before another one refreshed it gets its turn
        # after that refresh: it finds the new value here instead of calling again.
        latest = cache.get(cache_key)
        if latest is not None and latest.fresh:
            return latest.read()
        return _fetch_into(cache_key, latest or entry, fetch, window).read()
    finally:
        cache.delete(_turn_key(cache_key))


def read_key(organisation, key):
    return f"read:{organisation.pk}:{key}"


def _fetch_into(cache_key, entry, fetch, window):
    """Call `fetch` and store what it gave, or the error it raised next to the earlier value."""
    now = timezone.now()
    try:
        entry = Entry(value=fetch(), as_of=now, fresh_until=time.time() + window)
    except RealtimeKitError as error:
        # Waiting requests take the error too, rather than each asking Cloudflare once more.
        earlier = entry if entry and entry.has_value else None
        entry = Entry(
            value=earlier.value if earlier else None,
            as_of=earlier.as_of if earlier else None,
            has_value=earlier is not None,
            fresh_until=time.time() + min(window, ERROR_REUSE_SECONDS),
            error=error_fields(error),
        )
    cache.set(cache_key, entry, LAST_KNOWN_SECONDS)
    return entry


def _take_turn(cache_key):
    """Return True when this request is the one that fetches the value now."""
    return cache.add(_turn_key(cache_key), True, TURN_SECONDS)


def _turn_key(cache_key):
    return f"{cache_key}:fetching"


def _wait_for_entry(cache_key):
    """Wait a moment for the request that is fetching the value. Return None when it takes too
    long."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(WAIT_STEP_SECONDS)
        entry = cache.get(cache_key)
        if entry is not None:
            return entry
    return None


@dataclass(frozen=True)
class Entry:
    """A cached read: the value and when it was read, and the error of the latest fetch when it
    failed."""

    value: object
    as_of: datetime | None
    fresh_until: float
    has_value: bool = True
    error: dict | None = None

    @property
    def fresh(self):
        return time.time() < self.fresh_until

    def read(self):
        if self.error is None:
            return Read(self.value)
        error = RealtimeKitError(**self.error)
        # A rate-limited read shows the value from before, marked with its time.
        if error.status != 429 or not self.has_value:
            raise error
        return Read(self.value, as_of=self.as_of, error=error)


def error_fields(error):
    """Return what rebuilds `error`: exceptions lose their keyword arguments when pickled."""
    return {
        "message": error.message,
        "status": error.status,
        "code": error.code,
        "retryable": error.retryable,
        "upstream_message": error.upstream_message,
        "outcome_unknown": error.outcome_unknown,
        "retry_after": error.retry_after,
    }


def _parse_timestamp(value):
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def polls_for_meeting(*, organisation, meeting_id):
    """Return the meeting's polls with their options, without the voters' names."""
    return (
        Poll.objects.filter(organisation=organisation, meeting_id=meeting_id)
        .select_related("launched_by")
        .prefetch_related(Prefetch("options", queryset=PollOption.objects.defer("voters")))
    )
