"""Cloudflare's rate-limit headers are read from every response, stored per organisation and
shown to admins on the Connection page. Calls go to the sandbox over a real socket."""

import time

import pytest
from django.urls import reverse

from polls.budget import RateBudget, format_duration
from polls.realtimekit import RealtimeKitClient, RealtimeKitError
from polls.services import client_for
from tests.support import SANDBOX_ACCOUNT_ID, SANDBOX_API_TOKEN, SANDBOX_APP_ID
from tests.test_cooldown import rate_limit

MEETINGS_PATH = "/realtime/kit/.*/meetings$"


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


@pytest.fixture
def quiet_organisation(organisation):
    """The organisation with no observer preset, so opening the Connection page makes no call
    to Cloudflare."""
    organisation.observer_preset = ""
    organisation.save()
    return organisation


def send_headers(sandbox, headers, path=MEETINGS_PATH, times=None):
    """Make the sandbox serve matching calls as usual, with these headers added or replaced."""
    sandbox.add_fault(path=path, headers=headers, times=times)


def recording_client(sandbox, recorder):
    return RealtimeKitClient(
        base_url=sandbox.api_url,
        account_id=SANDBOX_ACCOUNT_ID,
        app_id=SANDBOX_APP_ID,
        api_token=SANDBOX_API_TOKEN,
        connect_timeout=1.0,
        read_timeout=5.0,
        read_retries=0,
        rate_budget=recorder,
    )


def connection_page(admin_client):
    response = admin_client.get(reverse("connection_settings"))
    assert response.status_code == 200
    return response.content.decode()


class Recorder:
    def __init__(self):
        self.readings = []

    def record(self, rate_limit):
        self.readings.append(rate_limit)


class BrokenRecorder:
    def record(self, rate_limit):
        raise ConnectionError("cache unreachable")


# Reading the headers


def test_call_stores_the_sandbox_budget(organisation, sandbox):
    before = time.time()

    client_for(organisation).list_meetings()

    reading = RateBudget(organisation.pk).latest()
    assert reading is not None
    assert reading.remaining == 1200 - len(sandbox.api_requests())
    assert reading.quota == 1200
    assert reading.window_seconds == 300
    assert before <= reading.read_at <= time.time()
    assert reading.read_at < reading.resets_at <= reading.read_at + 300


def test_later_call_lowers_the_remaining_budget(organisation, sandbox):
    client = client_for(organisation)
    client.list_meetings()
    first = RateBudget(organisation.pk).latest()

    client.list_meetings()

    assert RateBudget(organisation.pk).latest().remaining == first.remaining - 1


def test_error_response_is_recorded_too(organisation, sandbox):
    client = client_for(organisation)

    assert client.get_active_session(sandbox.idle_meeting_id()) is None

    reading = RateBudget(organisation.pk).latest()
    assert sandbox.api_requests()[-1]["status"] == 404
    assert reading.remaining == 1200 - len(sandbox.api_requests())


def test_exact_header_values_are_stored(organisation, sandbox):
    send_headers(
        sandbox,
        {"Ratelimit": '"default";r=1187;t=253', "Ratelimit-Policy": '"default";q=1200;w=300'},
    )

    client_for(organisation).list_meetings()

    reading = RateBudget(organisation.pk).latest()
    assert reading.remaining == 1187
    assert reading.quota == 1200
    assert reading.window_seconds == 300
    assert reading.resets_at - reading.read_at == pytest.approx(253)


def test_limit_with_fewest_remaining_wins(sandbox):
    recorder = Recorder()
    send_headers(
        sandbox,
        {
            "Ratelimit": '"default";r=900;t=200, "burst";t=5;r=3',
            "Ratelimit-Policy": '"default";q=1200;w=300, "burst";q=10;w=10',
        },
    )
    client = recording_client(sandbox, recorder)

    client.list_meetings()

    [reading] = recorder.readings
    assert (reading.remaining, reading.reset_seconds) == (3, 5)
    assert (reading.quota, reading.window_seconds) == (10, 10)


def test_limit_without_policy_keeps_the_remaining_count(organisation, sandbox):
    send_headers(sandbox, {"Ratelimit": '"default";r=42;t=60', "Ratelimit-Policy": "nonsense"})

    client_for(organisation).list_meetings()

    reading = RateBudget(organisation.pk).latest()
    assert reading.remaining == 42
    assert reading.quota is None
    assert reading.window_seconds is None


MALFORMED_LIMITS = [
    "",
    "nonsense",
    '"default";r=abc;t=10',
    '"default";r=5',
    '"default";t=10',
    '"default";r=-1;t=10',
    '"default";r=1.5;t=10',
    '"default";r=1_000;t=10',
    '"default";r=²;t=10',
    "r=5;t=10",
]


@pytest.mark.parametrize("header", MALFORMED_LIMITS)
def test_malformed_header_records_nothing(sandbox, header):
    recorder = Recorder()
    client = recording_client(sandbox, recorder)
    send_headers(sandbox, {"Ratelimit": header}, times=1)

    page = client.list_meetings()

    assert page.total_count == len(sandbox.meetings())
    assert recorder.readings == []
    # The next response carries the sandbox's own headers, which are recorded.
    client.list_meetings()
    assert len(recorder.readings) == 1


def test_response_without_headers_keeps_earlier_reading(organisation, sandbox):
    client = client_for(organisation)
    client.list_meetings()
    earlier = RateBudget(organisation.pk).latest()
    assert earlier is not None
    # A fault that responds in place of the sandbox sends no Ratelimit headers.
    sandbox.add_fault(
        path=MEETINGS_PATH,
        status=200,
        body={"success": True, "data": [], "paging": {"total_count": 0}},
    )

    page = client.list_meetings()

    assert page.total_count == 0
    assert RateBudget(organisation.pk).latest() == earlier


def test_failure_without_headers_records_nothing(sandbox):
    recorder = Recorder()
    client = recording_client(sandbox, recorder)
    sandbox.add_fault(path=MEETINGS_PATH, status=503, body={"success": False}, times=1)

    with pytest.raises(RealtimeKitError) as failure:
        client.list_meetings()

    assert failure.value.status == 503
    assert recorder.readings == []
    client.list_meetings()
    assert len(recorder.readings) == 1


def test_broken_recorder_does_not_fail_the_call(sandbox, caplog):
    client = recording_client(sandbox, BrokenRecorder())

    poll = client.create_poll(
        sandbox.live_meeting_id(),
        question="Q?",
        options=["A", "B"],
        anonymous=False,
        hide_votes=False,
    )

    assert poll["id"]
    assert "Could not record Cloudflare's rate limit" in caplog.text


def test_token_under_test_is_not_recorded(organisation, sandbox):
    client = client_for(organisation, api_token="wrong-token-123456")

    with pytest.raises(RealtimeKitError):
        client.list_meetings()

    assert sandbox.api_requests()
    assert RateBudget(organisation.pk).latest() is None
    client_for(organisation).list_meetings()
    assert RateBudget(organisation.pk).latest() is not None


def test_budget_is_kept_per_organisation(organisation, other_organisation, sandbox):
    client_for(organisation).list_meetings()

    assert RateBudget(organisation.pk).latest() is not None
    assert RateBudget(other_organisation.pk).latest() is None


# The panel on the Connection page


def test_panel_shows_the_budget_to_admins(admin_client, quiet_organisation, sandbox):
    send_headers(
        sandbox,
        {"Ratelimit": '"default";r=1187;t=253', "Ratelimit-Policy": '"default";q=1200;w=300'},
    )
    client_for(quiet_organisation).list_meetings()
    read_at = time.strftime(
        "%H:%M:%S", time.gmtime(RateBudget(quiet_organisation.pk).latest().read_at)
    )

    content = connection_page(admin_client)

    assert "1,187 of 1,200 calls left in this 5-minute window." in content
    assert "It resets in 4 min 1" in content
    assert f"(read at {read_at} UTC)" in content


@pytest.mark.parametrize(
    ("fresh_seconds", "expected"),
    [
        (2.5, "reuses a read of meetings and live sessions for 2.5 seconds before"),
        (1, "reuses a read of meetings and live sessions for 1 second before"),
        (0, "Reads of meetings and live sessions are not reused"),
    ],
)
def test_panel_shows_the_freshness_window(
    admin_client, quiet_organisation, settings, fresh_seconds, expected
):
    settings.REALTIMEKIT_READ_FRESH_SECONDS = fresh_seconds

    content = connection_page(admin_client)

    assert expected in content


def test_panel_without_reading_calls_nobody(admin_client, quiet_organisation, sandbox):
    content = connection_page(admin_client)

    assert "No call to Cloudflare is recorded yet" in content
    assert "429 Too Many Requests" not in content
    assert sandbox.api_requests() == []


def test_panel_reports_an_ended_window(admin_client, quiet_organisation, sandbox):
    send_headers(
        sandbox,
        {"Ratelimit": '"default";r=7;t=0', "Ratelimit-Policy": '"default";q=1200;w=300'},
    )
    client_for(quiet_organisation).list_meetings()

    content = connection_page(admin_client)

    assert "7 of 1,200 calls remained in that 5-minute window." in content
    assert "so the count has started over" in content


def test_panel_shows_a_running_cooldown(admin_client, quiet_organisation, sandbox):
    rate_limit(sandbox, 250)
    with pytest.raises(RealtimeKitError):
        client_for(quiet_organisation).list_meetings()

    content = connection_page(admin_client)

    assert "0 calls left in this rate-limit window. It resets in 4 min " in content
    assert "429 Too Many Requests" in content
    assert "for another 4 min " in content
    assert len(sandbox.api_requests()) == 1


def test_other_organisations_admin_sees_its_own_budget(client, stranger, organisation, sandbox):
    client_for(organisation).list_meetings()
    client.force_login(stranger)

    content = connection_page(client)

    assert "No call to Cloudflare is recorded yet" in content


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, "0 s"), (0.2, "1 s"), (13, "13 s"), (60, "1 min"), (253, "4 min 13 s"), (-5, "0 s")],
)
def test_duration_format(seconds, expected):
    assert format_duration(seconds) == expected
