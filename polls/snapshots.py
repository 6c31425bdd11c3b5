"""Recording what observer pages report: the dashboard's lasting record of a meeting's polls.

Several moderators may forward the same meeting at once, and their updates can arrive in any
order. Votes in RealtimeKit are only ever added, so a poll's total is its age: an update with no
more votes than the stored one is older or the same, and is dropped.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from polls import live
from polls.feed import FeedError
from polls.models import MeetingFeed, Poll, PollOption


@transaction.atomic
def record_update(*, organisation, meeting_id, update):
    """Record a parsed FeedUpdate from one observer and return how many polls changed.

    Raises FeedError, and records nothing, when a poll's options differ from the stored ones.
    """
    now = timezone.now()
    feed = _note_report(organisation, meeting_id, now, ended=update.ended)
    changed = 0
    for snapshot in update.polls:
        if record_poll_snapshot(
            organisation=organisation,
            meeting_id=meeting_id,
            snapshot=snapshot,
            session_id=feed.session_id,
            reported_at=now,
        ):
            changed += 1
    return changed


def record_poll_snapshot(*, organisation, meeting_id, snapshot, session_id, reported_at):
    """Store one poll as an observer saw it; return True when the stored counts moved forward.

    An unknown poll may be an unconfirmed launch with the same question and options: it then
    confirms that launch. Otherwise someone else created it in the meeting, and it is added.
    Raises FeedError when the poll is known with other options.
    """
    with transaction.atomic():
        poll, created = _find_or_add(organisation, meeting_id, snapshot, session_id)
        # The stored names are replaced, never read: a large poll has thousands of them.
        options = list(poll.options.defer("voters"))
        if [option.text for option in options] != [option.text for option in snapshot.options]:
            raise FeedError(
                f"Poll {snapshot.id} is recorded with other options than the update has.", 422
            )
        if not created and snapshot.total_votes <= poll.total_votes:
            return False
        _store_counts(poll, options, snapshot, reported_at)
        return True


def lock_feed(organisation_id, meeting_id):
    """Return the meeting's feed, locked until the transaction ends.

    Everything that adds or merges the meeting's polls takes this lock first, so two of them
    never work on the same poll at once.
    """
    feed, _ = MeetingFeed.objects.select_for_update().get_or_create(
        organisation_id=organisation_id, meeting_id=meeting_id
    )
    return feed


def _note_report(organisation, meeting_id, now, *, ended):
    feed = lock_feed(organisation.pk, meeting_id)
    # Pages show "waiting", "quiet" or "ended" until a report changes that: then the results
    # get a new version. While the feed stays live, only the shared report time moves on.
    was_live = live.freshness(feed, None, now).state == "live"
    newly_ended = ended and feed.ended_at is None
    feed.last_reported_at = now
    if newly_ended:
        feed.ended_at = now
    feed.save(update_fields=["last_reported_at", "ended_at"])
    if newly_ended or not was_live:
        live.results_changed(organisation.pk, meeting_id)
    live.note_report_time(organisation.pk, meeting_id, now)
    return feed


def _find_or_add(organisation, meeting_id, snapshot, session_id):
    """Return the locked poll for the snapshot and whether it was added just now."""
    known = Poll.objects.select_for_update().filter(
        organisation=organisation, upstream_id=snapshot.id
    )
    poll = known.first()
    if poll is not None:
        if poll.meeting_id != meeting_id:
            raise FeedError(f"Poll {snapshot.id} belongs to another meeting.", 422)
        return poll, False

    poll = _claim_unconfirmed(organisation, meeting_id, snapshot)
    if poll is not None:
        return poll, False
    try:
        with transaction.atomic():
            return _add_observed(organisation, meeting_id, snapshot, session_id), True
    except IntegrityError:
        # Another observer added it a moment ago; its row is the one to update.
        return known.get(), False


def _claim_unconfirmed(organisation, meeting_id, snapshot):
    """Return the oldest unconfirmed launch that this poll is, now marked launched, or None."""
    candidates = Poll.objects.select_for_update().filter(
        organisation=organisation,
        meeting_id=meeting_id,
        status=Poll.Status.UNCONFIRMED,
        upstream_id="",
        question=snapshot.question,
    )
    poll = oldest_with_options(candidates, [option.text for option in snapshot.options])
    if poll is not None:
        poll.upstream_id = snapshot.id
        poll.status = Poll.Status.LAUNCHED
        poll.save(update_fields=["upstream_id", "status"])
    return poll


def oldest_with_options(polls, texts):
    """Return the oldest of `polls` whose option texts are `texts`, in order, or None."""
    for poll in polls.order_by("launched_at", "pk").prefetch_related("options"):
        if [option.text for option in poll.options.all()] == texts:
            return poll
    return None


def _add_observed(organisation, meeting_id, snapshot, session_id):
    poll = Poll.objects.create(
        organisation=organisation,
        meeting_id=meeting_id,
        session_id=session_id,
        upstream_id=snapshot.id,
        status=Poll.Status.LAUNCHED,
        question=snapshot.question,
        anonymous=snapshot.anonymous,
        hide_votes=snapshot.hide_votes,
        created_by=snapshot.created_by,
    )
    PollOption.objects.bulk_create(
        PollOption(poll=poll, position=position, text=option.text)
        for position, option in enumerate(snapshot.options)
    )
    return poll


def _store_counts(poll, options, snapshot, reported_at):
    """Write the options whose counts moved in one statement, then the poll: two writes per
    poll, however many votes it carries."""
    moved = []
    for option, seen in zip(options, snapshot.options, strict=True):
        if option.count != seen.count:
            option.count = seen.count
            option.voters = [] if poll.anonymous or snapshot.anonymous else list(seen.voters)
            moved.append(option)
    PollOption.objects.bulk_update(moved, ["count", "voters"])
    poll.total_votes = snapshot.total_votes
    poll.version += 1
    # A poll added by this update was stored a moment after the update began.
    poll.results_updated_at = max(reported_at, poll.launched_at)
    poll.save(update_fields=["total_votes", "version", "results_updated_at"])
