"""Reads: what the dashboard shows, from Cloudflare and from the database."""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.utils import timezone

from polls.models import Poll
from polls.realtimekit import RealtimeKitError
from polls.services import client_for

MEETINGS_PER_PAGE = 10
# How long a read is kept, to be shown while Cloudflare's rate limit blocks calls.
LAST_KNOWN_SECONDS = 24 * 60 * 60


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
    return _read(
        organisation,
        f"meetings:{query}",
        lambda: client_for(organisation).list_meetings(
            search=search, page=page, per_page=MEETINGS_PER_PAGE
        ),
    )


def get_meeting(*, organisation, meeting_id):
    return _read(
        organisation,
        f"meeting:{meeting_id}",
        lambda: client_for(organisation).get_meeting(meeting_id),
    )


def get_live_session(*, organisation, meeting_id):
    """Read the live session, with `started_at` as a datetime, or None when nobody is in."""
    return _read(
        organisation, f"session:{meeting_id}", lambda: _fetch_live_session(organisation, meeting_id)
    )


def _fetch_live_session(organisation, meeting_id):
    session = client_for(organisation).get_active_session(meeting_id)
    if session is None:
        return None
    return {**session, "started_at": _parse_timestamp(session.get("started_at"))}


def _read(organisation, key, fetch):
    """Return a Read of `fetch()`, keeping it so that a rate-limited read can show it later."""
    cache_key = f"last-known:{organisation.pk}:{key}"
    try:
        value = fetch()
    except RealtimeKitError as error:
        known = cache.get(cache_key) if error.status == 429 else None
        if known is None:
            raise
        return Read(known["value"], as_of=known["as_of"], error=error)

    cache.set(cache_key, {"value": value, "as_of": timezone.now()}, LAST_KNOWN_SECONDS)
    return Read(value)


def _parse_timestamp(value):
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def polls_for_meeting(*, organisation, meeting_id):
    return (
        Poll.objects.filter(organisation=organisation, meeting_id=meeting_id)
        .select_related("launched_by")
        .prefetch_related("options")
    )
