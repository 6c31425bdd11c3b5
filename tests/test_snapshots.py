"""Recording observer updates: snapshots.record_update, record_poll_snapshot, and the merge of an
observed poll into its launch in services._confirm_launch."""

import random
import threading
import time
import uuid

import pytest
from django.db import connection, transaction
from django.utils import timezone

from polls import services
from polls.feed import FeedError, FeedUpdate, OptionSnapshot, PollSnapshot, parse_update
from polls.models import MeetingFeed, Poll
from polls.realtimekit import RealtimeKitError
from polls.snapshots import record_poll_snapshot, record_update

QUESTION = "Which track next?"
TEXTS = ("Keynote", "Workshop")

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: row locks and concurrent writers are what these tests exercise, "
    "and SQLite lets only one connection write at a time",
)


def voters_for(text, count):
    return tuple({"id": f"{text}-{n}", "name": f"Guest {n}"} for n in range(count))


def snapshot(poll_id="rtk-poll-1", counts=(2, 1), *, question=QUESTION, texts=TEXTS, **fields):
    """Return a PollSnapshot whose options name one voter per vote."""
    options = tuple(
        OptionSnapshot(text=text, count=count, voters=voters_for(text, count))
        for text, count in zip(texts, counts, strict=True)
    )
    fields = {"anonymous": False, "hide_votes": False, "created_by": "Priya", **fields}
    return PollSnapshot(id=poll_id, question=question, options=options, **fields)


def record(organisation, meeting_id, *polls, ended=False):
    update = FeedUpdate(polls=polls, ended=ended)
    return record_update(organisation=organisation, meeting_id=meeting_id, update=update)


def stored_options(poll):
    """Return (text, count, voters) for each option of `poll` as the database has it now."""
    return list(poll.options.order_by("position").values_list("text", "count", "voters"))


def expected_options(poll_snapshot):
    return [(o.text, o.count, list(o.voters)) for o in poll_snapshot.options]


def launch(organisation, user, meeting_id, question=QUESTION, anonymous=False):
    return services.launch_poll(
        organisation=organisation,
        meeting_id=meeting_id,
        user=user,
        launch_key=uuid.uuid4(),
        question=question,
        options=list(TEXTS),
        anonymous=anonymous,
        hide_votes=False,
    )


@pytest.fixture
def meeting_id(sandbox):
    return sandbox.live_meeting_id()


# Polls that someone else created in the meeting


def test_unknown_poll_is_added(organisation, meeting_id):
    MeetingFeed.objects.create(
        organisation=organisation, meeting_id=meeting_id, session_id="session-7"
    )
    seen = snapshot(counts=(2, 1), hide_votes=True)

    changed = record(organisation, meeting_id, seen)

    poll = Poll.objects.get()
    assert changed == 1
    assert poll.upstream_id == "rtk-poll-1"
    assert poll.meeting_id == meeting_id
    assert poll.session_id == "session-7"
    assert poll.status == Poll.Status.LAUNCHED
    assert poll.launched_by is None
    assert poll.created_by == "Priya"
    assert poll.question == QUESTION
    assert poll.hide_votes is True
    assert poll.total_votes == 3
    assert poll.version == 1
    assert poll.results_updated_at is not None
    assert stored_options(poll) == expected_options(seen)


def test_update_sets_last_reported_at(organisation, meeting_id):
    before = timezone.now()

    record(organisation, meeting_id, snapshot())

    feed = MeetingFeed.objects.get(organisation=organisation, meeting_id=meeting_id)
    assert feed.last_reported_at >= before
    assert feed.ended_at is None
    poll = Poll.objects.get()
    # A poll that the update added is stored a moment after the update began.
    assert poll.results_updated_at >= feed.last_reported_at
    assert poll.results_updated_at >= poll.launched_at


def test_known_poll_takes_the_update_time(organisation, meeting_id):
    record(organisation, meeting_id, snapshot(counts=(1, 0)))

    record(organisation, meeting_id, snapshot(counts=(2, 0)))

    feed = MeetingFeed.objects.get(organisation=organisation, meeting_id=meeting_id)
    assert Poll.objects.get().results_updated_at == feed.last_reported_at


def test_parsed_body_is_recorded(organisation, meeting_id):
    body = (
        b'{"polls": [{"id": "rtk-poll-9", "question": "Lunch?", "anonymous": false,'
        b' "hide_votes": false, "created_by": "Ola", "options": ['
        b'{"text": "Yes", "count": 1, "voters": [{"id": "u1", "name": "Ana"}]},'
        b' {"text": "No", "count": 0, "voters": []}]}]}'
    )

    record_update(organisation=organisation, meeting_id=meeting_id, update=parse_update(body))

    poll = Poll.objects.get(upstream_id="rtk-poll-9")
    assert stored_options(poll) == [("Yes", 1, [{"id": "u1", "name": "Ana"}]), ("No", 0, [])]


# Polls launched from the dashboard


def test_launched_poll_gets_counts(organisation, moderator, meeting_id):
    launched = launch(organisation, moderator, meeting_id)
    seen = snapshot(launched.upstream_id, counts=(1, 3))

    changed = record(organisation, meeting_id, seen)

    poll = Poll.objects.get()
    assert changed == 1
    assert poll.pk == launched.pk
    assert poll.launched_by == moderator
    assert poll.total_votes == 4
    assert poll.version == 1
    assert stored_options(poll) == expected_options(seen)


def test_other_meetings_poll_is_rejected(organisation, moderator, meeting_id, sandbox):
    launched = launch(organisation, moderator, meeting_id)
    other_meeting_id = sandbox.idle_meeting_id()

    with pytest.raises(FeedError) as raised:
        record(organisation, other_meeting_id, snapshot(launched.upstream_id))

    assert raised.value.status == 422
    assert launched.upstream_id in raised.value.message
    poll = Poll.objects.get()
    assert poll.meeting_id == meeting_id
    assert poll.total_votes == 0
    assert not MeetingFeed.objects.filter(meeting_id=other_meeting_id).exists()


# Updates that arrive late or twice


def test_newer_update_bumps_version(organisation, meeting_id):
    record(organisation, meeting_id, snapshot(counts=(1, 0)))
    newer = snapshot(counts=(2, 1))

    changed = record(organisation, meeting_id, newer)

    poll = Poll.objects.get()
    assert changed == 1
    assert poll.version == 2
    assert poll.total_votes == 3
    assert stored_options(poll) == expected_options(newer)


def test_older_update_is_dropped(organisation, meeting_id):
    newer = snapshot(counts=(3, 2))
    record(organisation, meeting_id, newer)
    first_result_time = Poll.objects.get().results_updated_at

    changed = record(organisation, meeting_id, snapshot(counts=(2, 1)))

    poll = Poll.objects.get()
    assert changed == 0
    assert poll.version == 1
    assert poll.total_votes == 5
    assert poll.results_updated_at == first_result_time
    assert stored_options(poll) == expected_options(newer)


def test_repeated_update_keeps_version(organisation, meeting_id):
    record(organisation, meeting_id, snapshot(counts=(2, 1)))

    changed = record(organisation, meeting_id, snapshot(counts=(2, 1)))

    assert changed == 0
    assert Poll.objects.get().version == 1


# Anonymous polls


def test_anonymous_poll_stores_no_names(organisation, meeting_id):
    seen = snapshot(counts=(2, 1), anonymous=True)
    assert seen.options[0].voters  # The snapshot bypasses parse_update, so it still names voters.

    record(organisation, meeting_id, seen)

    poll = Poll.objects.get()
    assert poll.anonymous is True
    assert stored_options(poll) == [("Keynote", 2, []), ("Workshop", 1, [])]


def test_anonymous_launch_stores_no_names(organisation, moderator, meeting_id):
    launched = launch(organisation, moderator, meeting_id, anonymous=True)

    record(organisation, meeting_id, snapshot(launched.upstream_id, counts=(1, 1), anonymous=True))

    assert stored_options(launched) == [("Keynote", 1, []), ("Workshop", 1, [])]


# Updates that contradict what is stored


def test_changed_options_reject_whole_update(organisation, meeting_id):
    record(organisation, meeting_id, snapshot("rtk-poll-a", counts=(1, 0)))
    record(organisation, meeting_id, snapshot("rtk-poll-c", counts=(1, 0)))
    feed = MeetingFeed.objects.get()
    update = [
        snapshot("rtk-poll-a", counts=(5, 5)),
        snapshot("rtk-poll-b", counts=(1, 1)),
        snapshot("rtk-poll-c", counts=(2, 2), texts=("Keynote", "Lab")),
    ]

    with pytest.raises(FeedError) as raised:
        record(organisation, meeting_id, *update, ended=True)

    assert raised.value.status == 422
    assert "rtk-poll-c" in raised.value.message
    assert not Poll.objects.filter(upstream_id="rtk-poll-b").exists()
    poll_a = Poll.objects.get(upstream_id="rtk-poll-a")
    assert poll_a.total_votes == 1
    assert poll_a.version == 1
    assert stored_options(poll_a) == expected_options(snapshot(counts=(1, 0)))
    reloaded = MeetingFeed.objects.get()
    assert reloaded.last_reported_at == feed.last_reported_at
    assert reloaded.ended_at is None


def test_extra_option_is_rejected(organisation, meeting_id):
    record(organisation, meeting_id, snapshot(counts=(1, 0)))

    with pytest.raises(FeedError) as raised:
        record(organisation, meeting_id, snapshot(counts=(1, 0, 1), texts=(*TEXTS, "Lab")))

    assert raised.value.status == 422
    assert Poll.objects.get().total_votes == 1


# End of the session


def test_ended_update_sets_ended_at(organisation, meeting_id):
    before = timezone.now()

    record(organisation, meeting_id, snapshot(), ended=True)

    assert MeetingFeed.objects.get().ended_at >= before


def test_later_ended_update_keeps_first_end(organisation, meeting_id):
    record(organisation, meeting_id, ended=True)
    first_end = MeetingFeed.objects.get().ended_at

    record(organisation, meeting_id, ended=True)

    assert MeetingFeed.objects.get().ended_at == first_end


# Launches whose outcome was unknown


def unconfirmed_launch(organisation, user, meeting_id, sandbox, settings):
    """Launch a poll whose response times out, and return it with the id the sandbox gave it."""
    settings.REALTIMEKIT_READ_TIMEOUT = 0.2
    sandbox.add_fault(method="POST", path="/poll$", delay_ms=500, times=1)
    with pytest.raises(RealtimeKitError):
        launch(organisation, user, meeting_id)
    sandbox.wait_for_requests(1, "POST", "/poll")
    [upstream] = sandbox.meeting(meeting_id)["polls"]
    return Poll.objects.get(status=Poll.Status.UNCONFIRMED), upstream["id"]


def test_snapshot_claims_unconfirmed_launch(organisation, moderator, meeting_id, sandbox, settings):
    unconfirmed, upstream_id = unconfirmed_launch(
        organisation, moderator, meeting_id, sandbox, settings
    )
    seen = snapshot(upstream_id, counts=(0, 2))

    record(organisation, meeting_id, seen)

    poll = Poll.objects.get()
    assert poll.pk == unconfirmed.pk
    assert poll.upstream_id == upstream_id
    assert poll.status == Poll.Status.LAUNCHED
    assert poll.launched_by == moderator
    assert poll.total_votes == 2
    assert stored_options(poll) == expected_options(seen)


def test_other_question_leaves_unconfirmed_launch(
    organisation, moderator, meeting_id, sandbox, settings
):
    unconfirmed, _ = unconfirmed_launch(organisation, moderator, meeting_id, sandbox, settings)

    record(organisation, meeting_id, snapshot("rtk-other", question="Which room?"))

    unconfirmed.refresh_from_db()
    assert unconfirmed.status == Poll.Status.UNCONFIRMED
    assert unconfirmed.upstream_id == ""
    assert Poll.objects.get(upstream_id="rtk-other").launched_by is None


# A launch response that arrives after an observer reported the poll


def reserved_launch(organisation, user, meeting_id):
    """Return a poll row in LAUNCHING state, as launch_poll leaves it until Cloudflare responds."""
    poll, reserved = services._reserve_launch(
        organisation=organisation,
        meeting_id=meeting_id,
        session_id="session-7",
        launched_by=user,
        launch_key=uuid.uuid4(),
        question=QUESTION,
        options=list(TEXTS),
        anonymous=False,
        hide_votes=False,
    )
    assert reserved
    return poll


def upstream_poll(poll_id):
    """Return a poll as Cloudflare's create-poll response has it, with no votes yet."""
    return {
        "id": poll_id,
        "question": QUESTION,
        "anonymous": False,
        "hide_votes": False,
        "options": [{"text": text, "count": 0, "votes": []} for text in TEXTS],
    }


def test_confirm_launch_takes_over_observed_poll(organisation, moderator, meeting_id):
    poll = reserved_launch(organisation, moderator, meeting_id)
    seen = snapshot("rtk-poll-1", counts=(2, 1))
    record(organisation, meeting_id, seen)
    observed = Poll.objects.get(upstream_id="rtk-poll-1")

    services._confirm_launch(poll, upstream_poll("rtk-poll-1"))

    assert not Poll.objects.filter(pk=observed.pk).exists()
    merged = Poll.objects.get()
    assert merged.pk == poll.pk
    assert merged.upstream_id == "rtk-poll-1"
    assert merged.status == Poll.Status.LAUNCHED
    assert merged.launched_by == moderator
    assert merged.session_id == "session-7"
    assert merged.total_votes == 3
    assert merged.version == observed.version
    assert merged.results_updated_at == observed.results_updated_at
    assert stored_options(merged) == expected_options(seen)


def test_merged_launch_takes_later_updates(organisation, moderator, meeting_id):
    poll = reserved_launch(organisation, moderator, meeting_id)
    record(organisation, meeting_id, snapshot("rtk-poll-1", counts=(2, 1)))
    services._confirm_launch(poll, upstream_poll("rtk-poll-1"))

    changed = record(organisation, meeting_id, snapshot("rtk-poll-1", counts=(2, 2)))

    merged = Poll.objects.get()
    assert changed == 1
    assert merged.pk == poll.pk
    assert merged.total_votes == 4
    assert merged.version == 2


def test_observed_poll_confirms_a_lost_launch_response(organisation, moderator, meeting_id):
    poll = reserved_launch(organisation, moderator, meeting_id)
    record(organisation, meeting_id, snapshot("rtk-poll-1", counts=(2, 1)))
    lost = RealtimeKitError("Cloudflare did not respond", outcome_unknown=True)

    confirmed = services._record_failed_launch(poll, lost)

    merged = Poll.objects.get()
    assert confirmed is True
    assert merged.pk == poll.pk
    assert merged.status == Poll.Status.LAUNCHED
    assert merged.upstream_id == "rtk-poll-1"
    assert merged.total_votes == 3


def test_lost_launch_response_without_report_stays_unconfirmed(organisation, moderator, meeting_id):
    poll = reserved_launch(organisation, moderator, meeting_id)
    record(organisation, meeting_id, snapshot("rtk-poll-1", counts=(1, 0), question="Other?"))
    lost = RealtimeKitError("Cloudflare did not respond", outcome_unknown=True)

    confirmed = services._record_failed_launch(poll, lost)

    poll.refresh_from_db()
    assert confirmed is False
    assert poll.status == Poll.Status.UNCONFIRMED
    assert poll.upstream_id == ""
    assert Poll.objects.count() == 2


# Concurrent observers (PostgreSQL)


def run_together(targets):
    """Run each callable in its own thread, with all threads started at once.

    Return what each callable returned or raised, in the order of `targets`.
    """
    barrier = threading.Barrier(len(targets))
    results = [None] * len(targets)

    def run(index):
        barrier.wait()
        try:
            results[index] = targets[index]()
        except Exception as error:  # noqa: BLE001 - the test inspects whatever came out
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(targets))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def recorder(entry_point, organisation, meeting_id, seen):
    """Return a callable that records `seen` through record_update or record_poll_snapshot."""
    if entry_point == "record_update":
        return lambda: record(organisation, meeting_id, seen)
    return lambda: record_poll_snapshot(
        organisation=organisation,
        meeting_id=meeting_id,
        snapshot=seen,
        session_id="",
        reported_at=timezone.now(),
    )


ENTRY_POINTS = pytest.mark.parametrize("entry_point", ["record_update", "record_poll_snapshot"])


@needs_postgresql
@pytest.mark.django_db(transaction=True)
@ENTRY_POINTS
def test_racing_updates_keep_highest_total(organisation, meeting_id, entry_point):
    seen = [snapshot(counts=(total, total // 2)) for total in range(1, 21)]
    random.shuffle(seen)

    results = run_together([recorder(entry_point, organisation, meeting_id, s) for s in seen])

    assert not [r for r in results if isinstance(r, Exception)], results
    poll = Poll.objects.get()
    largest = snapshot(counts=(20, 10))
    assert poll.total_votes == 30
    assert stored_options(poll) == expected_options(largest)
    assert 1 <= poll.version <= len(seen)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
@ENTRY_POINTS
def test_racing_first_snapshots_add_one_poll(organisation, meeting_id, entry_point):
    seen = snapshot(counts=(2, 1))

    results = run_together([recorder(entry_point, organisation, meeting_id, seen)] * 8)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(bool(r) for r in results) == [False] * 7 + [True]
    poll = Poll.objects.get()
    assert poll.version == 1
    assert stored_options(poll) == expected_options(seen)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
@ENTRY_POINTS
def test_two_polls_recorded_at_once(organisation, meeting_id, entry_point):
    first = snapshot("rtk-poll-1", counts=(1, 0))
    second = snapshot("rtk-poll-2", counts=(0, 3), question="Which room?")

    results = run_together(
        [recorder(entry_point, organisation, meeting_id, s) for s in (first, second)]
    )

    assert [bool(r) for r in results] == [True, True], results
    assert stored_options(Poll.objects.get(upstream_id="rtk-poll-1")) == expected_options(first)
    assert stored_options(Poll.objects.get(upstream_id="rtk-poll-2")) == expected_options(second)


def wait_for_lock_wait(timeout=5):
    """Return once another PostgreSQL backend is waiting for a lock, or after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_confirm_launch_during_observer_insert(organisation, moderator, meeting_id):
    poll = reserved_launch(organisation, moderator, meeting_id)
    inserted, release = threading.Event(), threading.Event()

    def observe():
        with transaction.atomic():
            record(organisation, meeting_id, snapshot("rtk-poll-1", counts=(2, 1)))
            inserted.set()
            release.wait(10)

    def confirm():
        inserted.wait(10)
        services._confirm_launch(poll, upstream_poll("rtk-poll-1"))

    def release_when_confirm_waits():
        inserted.wait(10)
        wait_for_lock_wait()
        release.set()

    results = run_together([observe, confirm, release_when_confirm_waits])

    assert not [r for r in results if isinstance(r, Exception)], results
    merged = Poll.objects.get()
    assert merged.pk == poll.pk
    assert merged.status == Poll.Status.LAUNCHED
    assert merged.total_votes == 3
