"""The RealtimeKit client against the sandbox over a real socket, with faults injected there."""

import logging

import pytest

from polls.realtimekit import RealtimeKitClient, RealtimeKitError, _thread_session
from tests.support import (
    AUTHENTICATION_ERROR,
    SANDBOX_ACCOUNT_ID,
    SANDBOX_API_TOKEN,
    SANDBOX_APP_ID,
    free_port,
)

MEETINGS_PATH = "/realtime/kit/.*/meetings$"


def make_client(base_url, *, token=SANDBOX_API_TOKEN, read_timeout=5.0, read_retries=1):
    return RealtimeKitClient(
        base_url=base_url,
        account_id=SANDBOX_ACCOUNT_ID,
        app_id=SANDBOX_APP_ID,
        api_token=token,
        connect_timeout=1.0,
        read_timeout=read_timeout,
        read_retries=read_retries,
    )


def create_poll(client, sandbox):
    """Create a plain two-option poll in the sandbox's first live meeting."""
    return client.create_poll(
        sandbox.live_meeting_id(),
        question="Q?",
        options=["A", "B"],
        anonymous=False,
        hide_votes=False,
    )


@pytest.fixture
def client(sandbox):
    return make_client(sandbox.api_url)


def test_list_meetings_pages_through_every_meeting(client, sandbox):
    first = client.list_meetings(page=1, per_page=10)
    second = client.list_meetings(page=2, per_page=10)
    ids = {meeting["id"] for meeting in first.meetings + second.meetings}

    assert first.total_count == len(sandbox.meetings())
    assert first.has_next
    assert not second.has_next
    assert second.has_previous
    assert ids == {meeting["id"] for meeting in sandbox.meetings()}


def test_list_meetings_search_sends_the_query(client, sandbox):
    title = sandbox.meetings()[0]["title"]

    page = client.list_meetings(search=title)

    assert [meeting["title"] for meeting in page.meetings] == [title]
    assert "search=" in sandbox.api_requests("GET", "/meetings")[-1]["query"]


def test_active_session_is_none_when_nobody_is_in(client, sandbox):
    assert client.get_active_session(sandbox.idle_meeting_id()) is None


def test_active_session_returns_the_live_session(client, sandbox):
    meeting_id = sandbox.live_meeting_id()

    session = client.get_active_session(meeting_id)

    assert session["status"] == "LIVE"
    assert session["associated_id"] == meeting_id


def test_create_poll_returns_cloudflares_poll(client, sandbox):
    meeting_id = sandbox.live_meeting_id()

    poll = client.create_poll(
        meeting_id,
        question="Tea or coffee?",
        options=["Tea", "Coffee"],
        anonymous=True,
        hide_votes=False,
    )

    assert poll["question"] == "Tea or coffee?"
    assert [option["text"] for option in poll["options"]] == ["Tea", "Coffee"]
    assert poll["anonymous"] is True
    assert [p["id"] for p in sandbox.meeting(meeting_id)["polls"]] == [poll["id"]]


def test_missing_token_is_reported_as_rejected(sandbox):
    client = make_client(sandbox.api_url, token="")

    with pytest.raises(RealtimeKitError) as raised:
        client.get_meeting(sandbox.live_meeting_id())

    assert raised.value.status == 401
    assert "API token" in raised.value.message


def test_wrong_token_is_reported_with_cloudflares_code(sandbox):
    client = make_client(sandbox.api_url, token="not-the-token")

    with pytest.raises(RealtimeKitError) as raised:
        client.list_meetings()

    assert raised.value.status == 403
    assert raised.value.code == 10000
    assert "Realtime permission" in raised.value.message
    assert not raised.value.retryable


def test_unknown_meeting_is_a_404(client):
    with pytest.raises(RealtimeKitError) as raised:
        client.get_meeting("00000000-0000-4000-8000-000000000000")

    assert raised.value.status == 404


def test_malformed_poll_carries_cloudflares_message(client, sandbox):
    with pytest.raises(RealtimeKitError) as raised:
        client.create_poll(
            sandbox.live_meeting_id(),
            question="Why?",
            options=["Only one"],
            anonymous=False,
            hide_votes=False,
        )

    assert raised.value.status == 400
    assert raised.value.upstream_message
    assert raised.value.upstream_message in raised.value.message


def test_read_is_retried_after_a_server_error(client, sandbox):
    sandbox.add_fault(method="GET", path=MEETINGS_PATH, status=503, times=1)

    page = client.list_meetings()

    assert page.total_count > 0
    assert len(sandbox.api_requests("GET", "/meetings")) == 2


def test_read_gives_up_after_the_retry_budget(client, sandbox):
    sandbox.add_fault(method="GET", path=MEETINGS_PATH, status=502)

    with pytest.raises(RealtimeKitError) as raised:
        client.list_meetings()

    assert raised.value.status == 502
    assert raised.value.retryable
    assert len(sandbox.api_requests("GET", "/meetings")) == 2


def test_create_poll_is_never_retried(client, sandbox):
    sandbox.add_fault(method="POST", path="/poll$", status=503, times=1)

    with pytest.raises(RealtimeKitError) as raised:
        create_poll(client, sandbox)

    assert raised.value.status == 503
    assert len(sandbox.api_requests("POST", "/poll")) == 1
    assert sandbox.meeting(sandbox.live_meeting_id())["polls"] == []


def test_client_errors_are_not_retried(client, sandbox):
    sandbox.add_fault(
        method="GET",
        path=MEETINGS_PATH,
        status=400,
        body={"success": False, "error": {"code": 400, "message": "bad paging"}},
    )

    with pytest.raises(RealtimeKitError):
        client.list_meetings()

    assert len(sandbox.api_requests("GET", "/meetings")) == 1


def test_html_error_page_becomes_a_readable_error(client, sandbox):
    sandbox.add_fault(
        path=MEETINGS_PATH,
        status=502,
        body="<html><body>Bad gateway</body></html>",
        headers={"Content-Type": "text/html"},
    )

    with pytest.raises(RealtimeKitError) as raised:
        client.list_meetings()

    assert raised.value.status == 502
    assert "server error (HTTP 502)" in raised.value.message


def test_invalid_json_is_a_readable_error(client, sandbox):
    sandbox.add_fault(path=MEETINGS_PATH, status=200, body="{not json")

    with pytest.raises(RealtimeKitError) as raised:
        client.list_meetings()

    assert raised.value.status == 200
    assert "not JSON" in raised.value.message


def test_unreadable_2xx_to_create_poll_has_unknown_outcome(client, sandbox):
    sandbox.add_fault(method="POST", path="/poll$", status=201, body="<html>created</html>")

    with pytest.raises(RealtimeKitError) as raised:
        create_poll(client, sandbox)

    assert raised.value.outcome_unknown
    assert "may or may not" in raised.value.message


def test_success_false_with_http_200_is_an_error(client, sandbox):
    sandbox.add_fault(
        path=MEETINGS_PATH,
        status=200,
        body={"success": False, "error": {"code": 1, "message": "Something broke"}},
    )

    with pytest.raises(RealtimeKitError) as raised:
        client.list_meetings()

    assert raised.value.status == 200
    assert "Something broke" in raised.value.message


def test_v4_error_envelope_is_parsed(client, sandbox):
    sandbox.add_fault(
        path=MEETINGS_PATH,
        status=403,
        body=AUTHENTICATION_ERROR,
    )

    with pytest.raises(RealtimeKitError) as raised:
        client.list_meetings()

    assert raised.value.code == 10000
    assert raised.value.upstream_message == "Authentication error"


def test_read_timeout_is_reported_and_not_repeated(sandbox):
    client = make_client(sandbox.api_url, read_timeout=0.2, read_retries=2)
    sandbox.add_fault(path=MEETINGS_PATH, delay_ms=500)

    with pytest.raises(RealtimeKitError) as raised:
        client.list_meetings()

    assert raised.value.status is None
    assert "did not respond within 0.2 s" in raised.value.message
    assert not raised.value.outcome_unknown
    assert len(sandbox.wait_for_requests(2, "GET", "/meetings", timeout=1)) == 1


def test_rate_limit_message_uses_retry_after(client, sandbox):
    sandbox.add_fault(
        path=MEETINGS_PATH,
        status=429,
        headers={"Retry-After": "300"},
        body={
            "success": False,
            "errors": [
                {"code": 10100, "message": "More than 1200 requests per 300 seconds reached"}
            ],
            "messages": [],
            "result": None,
        },
    )

    with pytest.raises(RealtimeKitError) as raised:
        client.list_meetings()

    assert raised.value.status == 429
    assert raised.value.retry_after == 300
    assert "for 300 seconds" in raised.value.message
    assert len(sandbox.api_requests("GET", "/meetings")) == 1


def test_create_poll_timeout_says_the_outcome_is_unknown(sandbox):
    client = make_client(sandbox.api_url, read_timeout=0.2)
    sandbox.add_fault(method="POST", path="/poll$", delay_ms=1000)

    with pytest.raises(RealtimeKitError) as raised:
        create_poll(client, sandbox)

    assert "may or may not" in raised.value.message
    assert raised.value.outcome_unknown
    assert len(sandbox.wait_for_requests(2, "POST", "/poll", timeout=1.5)) == 1


def test_connection_refused_names_the_host(db):
    closed_port = free_port()
    client = make_client(f"http://127.0.0.1:{closed_port}/client/v4", read_retries=0)

    with pytest.raises(RealtimeKitError) as raised:
        client.list_meetings()

    assert f"127.0.0.1:{closed_port}" in raised.value.message
    assert raised.value.retryable


def test_body_cut_short_is_reported(client, sandbox):
    sandbox.add_fault(path=MEETINGS_PATH, status=200, body={"success": True, "data": []}, cut=True)

    with pytest.raises(RealtimeKitError) as raised:
        client.list_meetings()

    assert raised.value.status is None
    assert "broke off" in raised.value.message


def test_failed_call_is_logged_as_a_warning(client, sandbox, caplog):
    sandbox.add_fault(path=MEETINGS_PATH, status=503)

    with pytest.raises(RealtimeKitError):
        client.list_meetings()

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert all("-> 503 in" in line for line in warnings)


def test_failed_call_log_has_cloudflares_message(client, sandbox, caplog):
    sandbox.add_fault(path=MEETINGS_PATH, status=403, body=AUTHENTICATION_ERROR)

    with pytest.raises(RealtimeKitError):
        client.list_meetings()

    assert "-> 403 in" in caplog.text
    assert "code 10000, Authentication error" in caplog.text


def test_clients_in_one_thread_share_a_cookieless_session(client, sandbox):
    sandbox.add_fault(path=MEETINGS_PATH, headers={"Set-Cookie": "__cf_bm=visitor-1; Path=/"})
    other = make_client(sandbox.api_url)

    client.list_meetings()
    other.list_meetings()

    assert _thread_session() is _thread_session()
    assert len(_thread_session().cookies) == 0


def test_each_call_is_logged_without_the_token(client, sandbox, caplog):
    caplog.set_level(logging.INFO, logger="polls.realtimekit")

    client.list_meetings()

    lines = [record.getMessage() for record in caplog.records]
    assert any(
        "GET" in line and "/meetings" in line and "200" in line and " ms" in line for line in lines
    )
    assert not any(SANDBOX_API_TOKEN in line for line in lines)
