"""How fresh a meeting's live results are, and the tokens that let a page ask "anything new?".

A page that shows live results sends back the token it was rendered with: the version of the
meeting's results and how fresh they were. The version lives in the cache, shared by every
worker, and changes once every change to the meeting's polls or feed is committed. A page reads
the version before the polls, so a change that its read missed always leaves it with an older
version. When the token is unchanged, the response is an empty 204, decided from one cache read
without the database or a template.
"""

import hashlib
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from polls.models import MeetingFeed

# An observer page reports at least every few seconds while it is open (see observer.js).
LIVE_SECONDS = 15
# How often "no update for N s" is rewritten while the feed is quiet.
QUIET_STEP_SECONDS = 10


@dataclass(frozen=True)
class Freshness:
    """`state` is "live", "quiet" (no report for a while), "waiting" (no report yet),
    "ended" (the session ended and its last update is in) or "past" (the poll belongs to a
    session that is not live, so its results are final)."""

    state: str
    quiet_seconds: int = 0

    @property
    def final(self):
        return self.state in ("ended", "past")

    @property
    def key(self):
        if self.state == "quiet":
            return f"quiet{self.quiet_seconds // QUIET_STEP_SECONDS}"
        return self.state


def feed_for(organisation, meeting_id):
    return MeetingFeed.objects.filter(organisation=organisation, meeting_id=meeting_id).first()


def freshness(feed, session_id, now=None):
    """Describe the results of `session_id` as the meeting's feed last reported them."""
    if feed is not None and feed.ended_at and (not session_id or feed.session_id == session_id):
        return Freshness("ended")
    if feed is None or feed.last_reported_at is None:
        return Freshness("waiting")
    return _since_report(((now or timezone.now()) - feed.last_reported_at).total_seconds())


def _since_report(seconds):
    quiet = int(seconds)
    if quiet <= LIVE_SECONDS:
        return Freshness("live")
    return Freshness("quiet", quiet)


# A version or report time that no write refreshed for this long is dropped, and pages that showed
# it render once more.
VERSION_SECONDS = 24 * 60 * 60


def results_changed(organisation_id, meeting_id):
    """Give the meeting's results a new version once the current transaction commits."""
    if not settings.CACHE_SHARED:
        return
    transaction.on_commit(
        lambda: cache.set(
            _version_key(organisation_id, meeting_id), _new_version(), VERSION_SECONDS
        )
    )


def note_report_time(organisation_id, meeting_id, when):
    """Share when an observer last reported, which turns "live" into "quiet" as time passes."""
    if not settings.CACHE_SHARED:
        return
    key = _reported_key(organisation_id, meeting_id)
    transaction.on_commit(lambda: cache.set(key, when.timestamp(), VERSION_SECONDS))


def results_version(organisation_id, meeting_id):
    """Return the meeting's results version. Read it before the meeting's polls and feed.

    A version that the cache lost is replaced by a new one, which every page that showed the
    old one renders again. Returns None when processes do not share the cache, and the
    version then comes from the polls themselves (see `polls_version`).
    """
    if not settings.CACHE_SHARED:
        return None
    key = _version_key(organisation_id, meeting_id)
    version = cache.get(key)
    if version is None:
        version = _new_version()
        cache.add(key, version, VERSION_SECONDS)
    return version


def polls_version(polls):
    """Return a version of the polls as stored, for processes that do not share the cache."""
    stored = ",".join(f"{poll.pk}:{poll.version}:{poll.status}" for poll in polls)
    return hashlib.blake2s(stored.encode(), digest_size=8).hexdigest()


def keep_report_time(organisation_id, meeting_id, feed):
    """Put the feed's last report time back in the cache when the cache lost it."""
    if settings.CACHE_SHARED and feed is not None and feed.last_reported_at is not None:
        key = _reported_key(organisation_id, meeting_id)
        cache.add(key, feed.last_reported_at.timestamp(), VERSION_SECONDS)


def token(version, fresh):
    return f"{version}.{fresh.key}"


@dataclass(frozen=True)
class Probe:
    """A meeting's results as the cache alone records them.

    `unchanged` is whether a page that shows the token `seen` is up to date. `current` is the
    results version with how fresh the last report is, or "" when the cache lacks either.
    """

    unchanged: bool
    current: str


NO_PROBE = Probe(unchanged=False, current="")


def probe(organisation_id, meeting_id, seen):
    """Read the meeting's results version and last report time in one cache read."""
    if not settings.CACHE_SHARED:
        return NO_PROBE
    version_key = _version_key(organisation_id, meeting_id)
    reported_key = _reported_key(organisation_id, meeting_id)
    found = cache.get_many([version_key, reported_key])
    version, reported = found.get(version_key), found.get(reported_key)
    since = _since_report(time.time() - reported).key if reported is not None else ""
    current = f"{version}.{since}" if version and since else ""

    seen_version, _, seen_key = seen.partition(".")
    if not seen_version or seen_version != version:
        return Probe(False, current)
    # "waiting", "ended" and "past" end only with a report or a new session, which change the
    # version. "live" and "quiet" change with time, as the report time shows.
    unchanged = seen_key in ("waiting", "ended", "past") or bool(since and seen_key == since)
    return Probe(unchanged, current)


def _version_key(organisation_id, meeting_id):
    return f"results-version:{organisation_id}:{meeting_id}"


def _reported_key(organisation_id, meeting_id):
    return f"results-reported:{organisation_id}:{meeting_id}"


def _new_version():
    return secrets.token_urlsafe(9)


PAST = Freshness("past")


def poll_freshness(poll, feed, live_session_id, now):
    """Return how fresh a poll's results are: a poll of the live session is as fresh as the
    feed, and any other poll's results are final."""
    if not live_session_id or (poll.session_id and poll.session_id != live_session_id):
        return PAST
    return freshness(feed, live_session_id, now)


def annotate(polls, feed, live_session_id):
    """Set `freshness` on each poll and return the freshness of the live session's results."""
    now = timezone.now()
    for poll in polls:
        poll.freshness = poll_freshness(poll, feed, live_session_id, now)
    return freshness(feed, live_session_id, now) if live_session_id else PAST
