"""Use cases that change state: they call Cloudflare through the client and store the result."""

from django.conf import settings
from django.db import IntegrityError, transaction

from polls.budget import RateBudget
from polls.cooldown import Cooldown
from polls.models import Poll, PollOption
from polls.realtimekit import RealtimeKitClient, RealtimeKitError
from polls.snapshots import lock_feed, oldest_with_options
from polls.tokens import TokenDecryptionError

NO_LIVE_SESSION_MESSAGE = (
    "Nobody is in this meeting right now, so there is no live session to launch a poll into. "
    "Start the meeting or wait for people to join, then launch again."
)


# Tries to reserve a launch key that concurrent requests keep taking and freeing.
RESERVE_ATTEMPTS = 3


class NoLiveSessionError(RealtimeKitError):
    """The meeting has no live session, so Cloudflare has nowhere to put a poll."""

    def __init__(self):
        super().__init__(NO_LIVE_SESSION_MESSAGE, status=404)


def client_for(organisation, *, api_token=None):
    """Return a client for the organisation's connection, with `api_token` in place of the
    stored token when given.

    Only calls with the stored token record their rate limit for the Connection page, because
    a token under test may be rejected and never saved. Raises RealtimeKitError when the stored
    token cannot be decrypted, so pages explain it like any other connection problem.
    """
    rate_budget = None if api_token else RateBudget(organisation.pk)
    try:
        api_token = api_token or organisation.api_token
    except TokenDecryptionError as error:
        raise RealtimeKitError(f"{error} An admin can do that on the Connection page.") from error
    return RealtimeKitClient(
        base_url=organisation.api_base_url,
        account_id=organisation.account_id,
        app_id=organisation.app_id,
        api_token=api_token,
        connect_timeout=settings.REALTIMEKIT_CONNECT_TIMEOUT,
        read_timeout=settings.REALTIMEKIT_READ_TIMEOUT,
        read_retries=settings.REALTIMEKIT_READ_RETRIES,
        cooldown=Cooldown(organisation.pk),
        rate_budget=rate_budget,
    )


def launch_poll(
    *, organisation, meeting_id, user, launch_key, question, options, anonymous, hide_votes
):
    """Create the poll in the meeting's live session once per launch key, and store it.

    A launch key seen before returns the poll stored for it, in whatever state it is, without
    calling Cloudflare again. Otherwise raises NoLiveSessionError when nobody is in the meeting
    and RealtimeKitError when a call fails. After a definite failure nothing is kept, so the
    same form can be sent again. When the outcome is unknown the poll stays, marked unconfirmed.
    """
    existing = Poll.objects.filter(organisation=organisation, launch_key=launch_key).first()
    if existing:
        return existing

    client = client_for(organisation)
    session = client.get_active_session(meeting_id)
    if session is None:
        raise NoLiveSessionError()

    poll, reserved = _reserve_launch(
        organisation=organisation,
        meeting_id=meeting_id,
        session_id=session.get("id", ""),
        launched_by=user,
        launch_key=launch_key,
        question=question,
        options=options,
        anonymous=anonymous,
        hide_votes=hide_votes,
    )
    if not reserved:
        return poll  # another request with this key got there first

    try:
        upstream = client.create_poll(
            meeting_id,
            question=question,
            options=options,
            anonymous=anonymous,
            hide_votes=hide_votes,
        )
    except RealtimeKitError as error:
        if _record_failed_launch(poll, error):
            return poll
        # The session can end between the two calls.
        if error.status == 404:
            raise NoLiveSessionError() from error
        raise

    _confirm_launch(poll, upstream)
    return poll


def _reserve_launch(*, organisation, launch_key, options, **fields):
    """Write the poll as launching and return it with True, or the row another request wrote
    for this key with False."""
    for _attempt in range(RESERVE_ATTEMPTS):
        try:
            with transaction.atomic():
                poll = Poll.objects.create(
                    organisation=organisation,
                    launch_key=launch_key,
                    status=Poll.Status.LAUNCHING,
                    **fields,
                )
                _replace_options(poll, [{"text": text} for text in options])
        except IntegrityError:
            other = Poll.objects.filter(organisation=organisation, launch_key=launch_key).first()
            if other is not None:
                return other, False
            # The other request's launch failed in the meantime and freed the key: try again.
            continue
        return poll, True
    raise RealtimeKitError(
        "This poll is being launched from another click or tab at the same time. Wait a "
        "moment, then reload the page to see whether it was launched."
    )


def _record_failed_launch(poll, error):
    """Forget a launch that failed, or keep one whose outcome is unknown as unconfirmed.

    Return True when an observer has already reported the poll, which confirms the launch.
    """
    if not error.outcome_unknown:
        poll.delete()
        return False
    with transaction.atomic():
        lock_feed(poll.organisation_id, poll.meeting_id)
        observed = _observed_copy(poll)
        if observed is None:
            poll.status = Poll.Status.UNCONFIRMED
            poll.save(update_fields=["status"])
            return False
        _confirm_launch(poll, _as_upstream(observed))
    return True


def _observed_copy(poll):
    """Return a poll that observers reported since this launch began, with the same question
    and options, or None."""
    candidates = Poll.objects.filter(
        organisation_id=poll.organisation_id,
        meeting_id=poll.meeting_id,
        launch_key__isnull=True,
        question=poll.question,
        launched_at__gte=poll.launched_at,
    ).exclude(upstream_id="")
    return oldest_with_options(candidates, list(poll.options.values_list("text", flat=True)))


def _as_upstream(observed):
    return {
        "id": observed.upstream_id,
        "question": observed.question,
        "anonymous": observed.anonymous,
        "hide_votes": observed.hide_votes,
        "options": [{"text": option.text} for option in observed.options.all()],
    }


@transaction.atomic
def _confirm_launch(poll, upstream):
    # An observer page can report the new poll before Cloudflare's response arrives here, and
    # record it as someone else's poll. The launch takes that row's place and keeps its counts.
    # Observers record under the meeting's feed lock, so holding it makes their rows visible.
    lock_feed(poll.organisation_id, poll.meeting_id)
    observed = (
        Poll.objects.select_for_update()
        .filter(organisation_id=poll.organisation_id, upstream_id=upstream["id"])
        .exclude(pk=poll.pk)
        .first()
    )
    if observed is not None:
        counts = list(observed.options.values_list("count", "voters"))
        observed.delete()
    poll.upstream_id = upstream["id"]
    poll.status = Poll.Status.LAUNCHED
    poll.question = upstream.get("question", poll.question)
    poll.anonymous = bool(upstream.get("anonymous"))
    poll.hide_votes = bool(upstream.get("hide_votes"))
    poll.created_by = str(upstream.get("created_by") or "")[:200]
    if observed is not None:
        poll.total_votes = observed.total_votes
        poll.version = observed.version
        poll.results_updated_at = observed.results_updated_at
        upstream = {**upstream, "options": _with_counts(upstream.get("options") or [], counts)}
    poll.save()
    _replace_options(poll, upstream.get("options") or [])


def _with_counts(options, counts):
    counted = [
        {**option, "count": count, "votes": voters}
        for option, (count, voters) in zip(options, counts, strict=False)
    ]
    return counted + options[len(counted) :]


def _replace_options(poll, options):
    poll.options.all().delete()
    PollOption.objects.bulk_create(
        PollOption(
            poll=poll,
            position=position,
            text=option.get("text", ""),
            count=option.get("count") or 0,
            voters=[] if poll.anonymous else list(option.get("votes") or []),
        )
        for position, option in enumerate(options)
    )
