"""How fresh a meeting's live results are, and the tokens that let a page ask "anything new?".

A page that shows live results sends back the token it was rendered with. When the token is
unchanged, nothing the page shows has changed, and the response is an empty 204.
"""

import hashlib
from dataclasses import dataclass

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
    quiet = int(((now or timezone.now()) - feed.last_reported_at).total_seconds())
    if quiet <= LIVE_SECONDS:
        return Freshness("live")
    return Freshness("quiet", quiet)


def poll_token(poll, fresh):
    return f"{poll.version}.{fresh.key}"


def list_token(polls, fresh):
    versions = ",".join(f"{poll.pk}:{poll.version}" for poll in polls)
    digest = hashlib.blake2s(versions.encode(), digest_size=8).hexdigest()
    return f"{digest}.{fresh.key}"


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
