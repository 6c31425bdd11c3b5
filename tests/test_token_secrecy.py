"""The API token never leaves the server: not in a page, a fragment, a header or a log line."""

import logging
import uuid

import pytest
from django.urls import reverse

from polls.models import Poll
from tests.support import AUTHENTICATION_ERROR, SANDBOX_API_TOKEN

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def seen(caplog):
    """Collect every response and, at the end, every log line the test produced."""
    caplog.set_level(logging.DEBUG)
    responses = []
    yield responses
    texts = [response.content.decode(errors="replace") for response in responses]
    texts += [str(sorted(response.items())) for response in responses]
    texts += [str(response.cookies) for response in responses]
    texts += [record.getMessage() for record in caplog.records]
    texts += [str(record.args) for record in caplog.records]
    assert len(responses) > 20
    for text in texts:
        assert SANDBOX_API_TOKEN not in text


def test_full_flow_never_shows_the_token(client, admin, sandbox, seen, settings):
    settings.REALTIMEKIT_SDK_URL = f"{sandbox.url}/sandbox/sdk.js"
    meeting_id = sandbox.live_meeting_id()
    launch_url = reverse("launch_poll", args=[meeting_id])

    def get(url, **extra):
        seen.append(client.get(url, **extra))
        return seen[-1]

    def post(url, data, **extra):
        seen.append(client.post(url, data, **extra))
        return seen[-1]

    get(reverse("login"))
    post(reverse("login"), {"username": "ada", "password": "correct horse"})
    get(reverse("meeting_list"))
    get(reverse("meeting_list"), data={"q": "town"}, **HTMX)
    get(reverse("meeting_list"), data={"page": 2})
    for meeting in sandbox.meetings():
        get(reverse("meeting_badge", args=[meeting["id"]]), **HTMX)
        get(reverse("meeting_detail", args=[meeting["id"]]))
    post(launch_url, {"question": "Q1?", "options": ["A", "B"], "launch_key": uuid.uuid4()}, **HTMX)
    response = post(
        launch_url, {"question": "Q2?", "options": ["A", "B"], "launch_key": uuid.uuid4()}
    )
    get(response["Location"])
    post(launch_url, {"question": "", "options": ["A", "A"], "launch_key": uuid.uuid4()}, **HTMX)
    post(
        reverse("launch_poll", args=[sandbox.idle_meeting_id()]),
        {"question": "Q3?", "options": ["A", "B"], "launch_key": uuid.uuid4()},
        **HTMX,
    )

    post(reverse("observer_token", args=[meeting_id]), {})
    post(reverse("observer_token", args=[meeting_id]), {"refresh": "1"})
    poll = Poll.objects.filter(upstream_id__gt="").first()
    update = {
        "polls": [
            {
                "id": poll.upstream_id,
                "question": poll.question,
                "anonymous": False,
                "hide_votes": False,
                "created_by": "",
                "options": [
                    {"text": option.text, "count": 1, "voters": [{"id": "p1", "name": "Ana"}]}
                    for option in poll.options.all()
                ],
            }
        ]
    }
    post(reverse("sync_polls", args=[meeting_id]), update, content_type="application/json")
    get(reverse("meeting_polls", args=[meeting_id]), **HTMX)
    get(reverse("poll_results", args=[poll.pk]), **HTMX)
    get(reverse("poll_detail", args=[poll.pk]))
    get(reverse("poll_export_csv", args=[poll.pk]))
    get(reverse("poll_export_json", args=[poll.pk]))

    sandbox.add_fault(path="/meetings$", status=403, body=AUTHENTICATION_ERROR, times=1)
    get(reverse("meeting_list"))
    sandbox.add_fault(path="/active-session$", status=500, body="<html>oops</html>", times=3)
    get(reverse("meeting_detail", args=[meeting_id]))
    sandbox.add_fault(
        method="POST",
        path="/poll$",
        status=400,
        body={"success": False, "error": {"code": 400, "message": "bad"}},
    )
    post(launch_url, {"question": "Q4?", "options": ["A", "B"], "launch_key": uuid.uuid4()}, **HTMX)
    sandbox.add_fault(
        path="/meetings$",
        status=429,
        headers={"Retry-After": "60"},
        body=AUTHENTICATION_ERROR,
        times=1,
    )
    get(reverse("meeting_list"), data={"page": 2})
    get(reverse("meeting_list"))

    get(reverse("connection_settings"))
    connection = {
        "name": "Northwind Webinars",
        "account_id": admin.membership.organisation.account_id,
        "app_id": admin.membership.organisation.app_id,
        "api_base_url": sandbox.api_url,
    }
    post(reverse("connection_settings"), {**connection, "api_token": "wrong-token-0000000000"})
    post(
        reverse("connection_settings"), {**connection, "api_token": SANDBOX_API_TOKEN}, follow=True
    )
    get(reverse("members"))
    get(reverse("healthz"))
    post(reverse("logout"), {})
