"""One launch per form: the launch key stops a second submit from creating a second poll."""

import threading
import uuid
from unittest import mock

import pytest
from django.db import IntegrityError, connection

from polls import services
from polls.models import Poll
from polls.realtimekit import RealtimeKitError


def launch(organisation, user, meeting_id, launch_key, question="Which track next?"):
    return services.launch_poll(
        organisation=organisation,
        meeting_id=meeting_id,
        user=user,
        launch_key=launch_key,
        question=question,
        options=["Keynote", "Workshop"],
        anonymous=False,
        hide_votes=False,
    )


def test_second_submit_returns_the_first_poll(organisation, moderator, sandbox):
    meeting_id = sandbox.live_meeting_id()
    key = uuid.uuid4()

    first = launch(organisation, moderator, meeting_id, key)
    second = launch(organisation, moderator, meeting_id, key)

    assert second.pk == first.pk
    assert second.status == Poll.Status.LAUNCHED
    assert len(sandbox.meeting(meeting_id)["polls"]) == 1
    assert len(sandbox.api_requests("POST", "/poll")) == 1


def test_view_double_submit_shows_first_poll(moderator_client, sandbox):
    meeting_id = sandbox.live_meeting_id()
    data = {"question": "Once?", "options": ["Yes", "No"], "launch_key": uuid.uuid4()}
    url = f"/meetings/{meeting_id}/polls/"

    first = moderator_client.post(url, data)
    second = moderator_client.post(url, data)

    assert first.status_code == 302
    assert second["Location"] == first["Location"]
    assert len(sandbox.meeting(meeting_id)["polls"]) == 1


def test_failed_launch_frees_the_key_for_a_retry(organisation, moderator, sandbox):
    meeting_id = sandbox.live_meeting_id()
    key = uuid.uuid4()
    sandbox.add_fault(method="POST", path="/poll$", status=503, times=1)

    with pytest.raises(RealtimeKitError):
        launch(organisation, moderator, meeting_id, key)
    assert not Poll.objects.exists()

    poll = launch(organisation, moderator, meeting_id, key)

    assert poll.status == Poll.Status.LAUNCHED
    assert len(sandbox.meeting(meeting_id)["polls"]) == 1


def test_unknown_outcome_is_kept_as_unconfirmed(organisation, moderator, sandbox, settings):
    settings.REALTIMEKIT_READ_TIMEOUT = 0.2
    meeting_id = sandbox.live_meeting_id()
    key = uuid.uuid4()
    sandbox.add_fault(method="POST", path="/poll$", delay_ms=500, times=1)

    with pytest.raises(RealtimeKitError) as raised:
        launch(organisation, moderator, meeting_id, key, question="Did it land?")

    poll = Poll.objects.get()
    assert raised.value.outcome_unknown
    assert poll.status == Poll.Status.UNCONFIRMED
    assert poll.question == "Did it land?"
    assert [o.text for o in poll.options.all()] == ["Keynote", "Workshop"]
    assert launch(organisation, moderator, meeting_id, key).pk == poll.pk
    assert len(sandbox.wait_for_requests(2, "POST", "/poll", timeout=1)) == 1


def test_resubmitting_an_unconfirmed_launch_warns_and_sends_nothing(
    moderator_client, sandbox, settings
):
    settings.REALTIMEKIT_READ_TIMEOUT = 0.2
    meeting_id = sandbox.live_meeting_id()
    data = {"question": "Again?", "options": ["Yes", "No"], "launch_key": uuid.uuid4()}
    sandbox.add_fault(method="POST", path="/poll$", delay_ms=500, times=1)
    moderator_client.post(f"/meetings/{meeting_id}/polls/", data, HTTP_HX_REQUEST="true")

    response = moderator_client.post(f"/meetings/{meeting_id}/polls/", data, HTTP_HX_REQUEST="true")

    assert response.status_code == 409
    assert "Check the meeting in RealtimeKit" in response.content.decode()
    assert len(sandbox.wait_for_requests(2, "POST", "/poll", timeout=1)) == 1


def test_two_moderators_launching_at_once_both_succeed(organisation, moderator, admin, sandbox):
    meeting_id = sandbox.live_meeting_id()

    first = launch(organisation, moderator, meeting_id, uuid.uuid4(), question="From Maya?")
    second = launch(organisation, admin, meeting_id, uuid.uuid4(), question="From Ada?")

    assert first.pk != second.pk
    assert {p["question"] for p in sandbox.meeting(meeting_id)["polls"]} == {
        "From Maya?",
        "From Ada?",
    }


def run_at_once(count, target):
    """Run `target` in `count` threads that start together; return what each returned or raised."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(index):
        barrier.wait()
        try:
            results[index] = target()
        except Exception as error:  # noqa: BLE001 - the test inspects whatever came out
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_same_key_from_many_threads_creates_one_poll(organisation, moderator, sandbox):
    meeting_id = sandbox.live_meeting_id()
    key = uuid.uuid4()

    results = run_at_once(8, lambda: launch(organisation, moderator, meeting_id, key))

    assert all(isinstance(result, Poll) for result in results), results
    assert len({result.pk for result in results}) == 1
    assert Poll.objects.count() == 1
    assert len(sandbox.meeting(meeting_id)["polls"]) == 1


@pytest.mark.django_db(transaction=True)
def test_different_keys_from_many_threads_all_launch(organisation, moderator, sandbox):
    meeting_id = sandbox.live_meeting_id()

    results = run_at_once(
        6, lambda: launch(organisation, moderator, meeting_id, uuid.uuid4(), question="Same?")
    )

    assert all(isinstance(result, Poll) for result in results), results
    assert Poll.objects.filter(status=Poll.Status.LAUNCHED).count() == 6
    assert len(sandbox.meeting(meeting_id)["polls"]) == 6


def test_freed_key_is_reserved_again(organisation, moderator, sandbox):
    # Another request held the key when this one tried it, then its launch failed and the key
    # was freed before this one could read that request's poll.
    real_create = Poll.objects.create
    conflicts = iter([IntegrityError("duplicate key value violates unique_launch_key")])

    def create_after_a_conflict(**fields):
        error = next(conflicts, None)
        if error is not None:
            raise error
        return real_create(**fields)

    with mock.patch.object(Poll.objects, "create", side_effect=create_after_a_conflict):
        poll = launch(organisation, moderator, sandbox.live_meeting_id(), uuid.uuid4())

    assert poll.status == Poll.Status.LAUNCHED
    assert Poll.objects.count() == 1


def test_contested_key_gives_up(organisation, moderator, sandbox):
    conflict = IntegrityError("duplicate key value violates unique_launch_key")

    with (
        mock.patch.object(Poll.objects, "create", side_effect=conflict),
        pytest.raises(RealtimeKitError, match="at the same time"),
    ):
        launch(organisation, moderator, sandbox.live_meeting_id(), uuid.uuid4())

    assert sandbox.api_requests("POST", "/poll") == []
