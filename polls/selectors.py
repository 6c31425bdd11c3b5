"""Reads: what the dashboard shows, from Cloudflare and from the database."""

from datetime import datetime

from polls.models import Poll
from polls.services import client_for

MEETINGS_PER_PAGE = 10


def list_meetings(*, organisation, search, page):
    return client_for(organisation).list_meetings(
        search=search, page=page, per_page=MEETINGS_PER_PAGE
    )


def get_meeting(*, organisation, meeting_id):
    return client_for(organisation).get_meeting(meeting_id)


def get_live_session(*, organisation, meeting_id):
    """Return the live session with `started_at` as a datetime, or None when nobody is in."""
    session = client_for(organisation).get_active_session(meeting_id)
    if session is None:
        return None
    return {**session, "started_at": _parse_timestamp(session.get("started_at"))}


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
