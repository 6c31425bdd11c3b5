"""Reads of meetings and sessions shared through the cache: the window, the single flight and
the failures handed to waiting requests. Counts are taken from the sandbox's request log."""

import threading
import time

import pytest
from django.urls import reverse

from polls import observer, selectors
from polls.realtimekit import RealtimeKitError

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def window(settings):
    settings.REALTIMEKIT_READ_FRESH_SECONDS = 10
    return settings


def read_meeting(organisation, meeting_id):
    return selectors.get_meeting(organisation=organisation, meeting_id=meeting_id).value


def in_threads(count, target):
    """Run `target` in `count` threads at once and return what each returned or raised."""
    results = [None] * count
    start = threading.Barrier(count)

    def run(index):
        start.wait()
        try:
            results[index] = target()
        except RealtimeKitError as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    return results


def test_reads_within_the_window_make_one_call(window, organisation, sandbox):
    meeting_id = sandbox.live_meeting_id()

    titles = {read_meeting(organisation, meeting_id)["title"] for _ in range(5)}

    assert len(titles) == 1
    assert len(sandbox.api_requests(path_contains=meeting_id)) == 1


def test_without_a_window_every_read_calls(settings, organisation, sandbox):
    settings.REALTIMEKIT_READ_FRESH_SECONDS = 0
    meeting_id = sandbox.live_meeting_id()

    for _ in range(3):
        read_meeting(organisation, meeting_id)

    assert len(sandbox.api_requests(path_contains=meeting_id)) == 3


def test_concurrent_reads_wait_for_one_call(window, organisation, sandbox):
    meeting_id = sandbox.live_meeting_id()
    sandbox.add_fault(path=f"/meetings/{meeting_id}$", delay_ms=300)

    results = in_threads(10, lambda: read_meeting(organisation, meeting_id))

    assert [result["id"] for result in results] == [meeting_id] * 10
    assert len(sandbox.wait_for_requests(2, path_contains=meeting_id, timeout=1)) == 1


def test_refresh_serves_the_old_value(window, organisation, sandbox):
    window.REALTIMEKIT_READ_FRESH_SECONDS = 0.2
    meeting_id = sandbox.live_meeting_id()
    read_meeting(organisation, meeting_id)
    time.sleep(0.3)
    sandbox.add_fault(path=f"/meetings/{meeting_id}$", delay_ms=1000)
    refreshing = threading.Thread(target=read_meeting, args=(organisation, meeting_id))
    refreshing.start()
    time.sleep(0.2)

    started = time.monotonic()
    value = read_meeting(organisation, meeting_id)
    waited = time.monotonic() - started
    refreshing.join(timeout=5)

    assert value["id"] == meeting_id
    assert waited < 0.5
    assert len(sandbox.api_requests(path_contains=meeting_id)) == 2


def test_failed_read_is_handed_to_waiting_requests(window, organisation, sandbox):
    meeting_id = sandbox.live_meeting_id()
    sandbox.add_fault(path=f"/meetings/{meeting_id}$", status=503, delay_ms=300)

    results = in_threads(8, lambda: read_meeting(organisation, meeting_id))

    assert {type(result) for result in results} == {RealtimeKitError}
    assert {result.status for result in results} == {503}
    # One request fetched, and tried once more as a read after a 503 is.
    assert len(sandbox.wait_for_requests(3, path_contains=meeting_id, timeout=1)) == 2


def test_failure_reused_for_one_second(window, organisation, sandbox):
    meeting_id = sandbox.live_meeting_id()
    sandbox.add_fault(path=f"/meetings/{meeting_id}$", status=503, times=2)
    with pytest.raises(RealtimeKitError):
        read_meeting(organisation, meeting_id)
    with pytest.raises(RealtimeKitError):
        read_meeting(organisation, meeting_id)

    time.sleep(1.1)

    assert read_meeting(organisation, meeting_id)["id"] == meeting_id
    assert len(sandbox.api_requests(path_contains=meeting_id)) == 3


def test_rate_limited_read_still_shows_the_earlier_value(window, organisation, sandbox):
    window.REALTIMEKIT_READ_FRESH_SECONDS = 0.1
    meeting_id = sandbox.live_meeting_id()
    read_meeting(organisation, meeting_id)
    time.sleep(0.2)
    sandbox.add_fault(path=f"/meetings/{meeting_id}$", status=429, headers={"Retry-After": "60"})

    read = selectors.get_meeting(organisation=organisation, meeting_id=meeting_id)

    assert read.value["id"] == meeting_id
    assert read.as_of is not None
    assert read.error.status == 429


def test_many_moderators_cost_what_one_does(window, organisation, sandbox, client, moderator):
    client.force_login(moderator)
    meeting_id = sandbox.live_meeting_id()

    for _ in range(20):
        client.get(reverse("meeting_list"))
        client.get(reverse("meeting_badge", args=[meeting_id]), **HTMX)
        client.get(reverse("meeting_detail", args=[meeting_id]))

    calls = sandbox.api_requests()
    assert len([call for call in calls if call["path"].endswith("/meetings")]) == 1
    assert len([call for call in calls if call["path"].endswith("/active-session")]) == 1
    assert len([call for call in calls if call["path"].endswith(meeting_id)]) == 1


def test_reads_are_kept_apart_per_organisation(window, organisation, other_organisation, sandbox):
    meeting_id = sandbox.live_meeting_id()
    read_meeting(organisation, meeting_id)

    with pytest.raises(RealtimeKitError) as raised:
        read_meeting(other_organisation, meeting_id)

    assert raised.value.status == 403


def test_turn_after_a_refresh_reuses_it(window, organisation, sandbox, monkeypatch):
    window.REALTIMEKIT_READ_FRESH_SECONDS = 0.2
    meeting_id = sandbox.live_meeting_id()
    read_meeting(organisation, meeting_id)
    time.sleep(0.3)
    take_turn = selectors._take_turn

    def refreshed_meanwhile(cache_key):
        # Another request refreshes the value between this one's read and its turn.
        window.REALTIMEKIT_READ_FRESH_SECONDS = 10
        monkeypatch.setattr(selectors, "_take_turn", take_turn)
        read_meeting(organisation, meeting_id)
        return take_turn(cache_key)

    monkeypatch.setattr(selectors, "_take_turn", refreshed_meanwhile)
    read_meeting(organisation, meeting_id)

    assert len(sandbox.api_requests(path_contains=meeting_id)) == 2


def test_concurrent_preset_checks_make_one_check(organisation, sandbox):
    sandbox.add_fault(path="/presets$", delay_ms=300)

    results = in_threads(10, lambda: observer.check_preset(organisation))

    assert {result.problem for result in results} == {""}
    assert len(sandbox.wait_for_requests(2, path_contains="/presets", timeout=1)) == 2
