"""Use cases that change state: they call Cloudflare through the client and store the result."""

from django.conf import settings
from django.db import transaction

from polls.models import Poll, PollOption
from polls.realtimekit import RealtimeKitClient, RealtimeKitError

NO_LIVE_SESSION_MESSAGE = (
    "Nobody is in this meeting right now, so there is no live session to launch a poll into. "
    "Start the meeting or wait for people to join, then launch again."
)


class NoLiveSessionError(RealtimeKitError):
    """The meeting has no live session, so Cloudflare has nowhere to put a poll."""

    def __init__(self):
        super().__init__(NO_LIVE_SESSION_MESSAGE, status=404)


def client_for(organisation):
    return RealtimeKitClient(
        base_url=organisation.api_base_url,
        account_id=organisation.account_id,
        app_id=organisation.app_id,
        api_token=organisation.api_token,
        connect_timeout=settings.REALTIMEKIT_CONNECT_TIMEOUT,
        read_timeout=settings.REALTIMEKIT_READ_TIMEOUT,
        read_retries=settings.REALTIMEKIT_READ_RETRIES,
    )


def launch_poll(*, organisation, meeting_id, user, question, options, anonymous, hide_votes):
    """Create the poll in the meeting's live session and store what Cloudflare returned.

    Raises NoLiveSessionError when nobody is in the meeting and RealtimeKitError when a call
    fails. Either way nothing is stored.
    """
    client = client_for(organisation)
    session = client.get_active_session(meeting_id)
    if session is None:
        raise NoLiveSessionError()

    try:
        upstream = client.create_poll(
            meeting_id,
            question=question,
            options=options,
            anonymous=anonymous,
            hide_votes=hide_votes,
        )
    except RealtimeKitError as error:
        # The session can end between the two calls.
        if error.status == 404:
            raise NoLiveSessionError() from error
        raise

    return _store_poll(
        organisation=organisation,
        meeting_id=meeting_id,
        session_id=session.get("id", ""),
        user=user,
        upstream=upstream,
    )


@transaction.atomic
def _store_poll(*, organisation, meeting_id, session_id, user, upstream):
    poll = Poll.objects.create(
        organisation=organisation,
        meeting_id=meeting_id,
        session_id=session_id,
        upstream_id=upstream["id"],
        question=upstream.get("question", ""),
        anonymous=bool(upstream.get("anonymous")),
        hide_votes=bool(upstream.get("hide_votes")),
        launched_by=user,
    )
    PollOption.objects.bulk_create(
        PollOption(
            poll=poll,
            position=position,
            text=option.get("text", ""),
            count=option.get("count") or 0,
        )
        for position, option in enumerate(upstream.get("options") or [])
    )
    return poll
