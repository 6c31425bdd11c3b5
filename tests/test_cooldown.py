"""Cloudflare's 429: the whole organisation holds back its calls for as long as it was asked."""

import os
import subprocess
import sys
import threading
import time
import uuid

import pytest
from django.urls import reverse

from polls.models import Poll
from polls.realtimekit import RealtimeKitError
from polls.services import client_for
from tests.support import AUTHENTICATION_ERROR, PROJECT_ROOT

RATE_LIMITED = {
    **AUTHENTICATION_ERROR,
    "errors": [{"code": 10100, "message": "More than 1200 requests per 300 seconds reached"}],
}


def rate_limit(sandbox, seconds, path="/meetings"):
    sandbox.add_fault(
        path=path,
        status=429,
        body=RATE_LIMITED,
        headers={"Retry-After": str(seconds), "Ratelimit": f'"default";r=0;t={seconds}'},
        times=1,
    )


def test_429_holds_back_every_later_call(organisation, sandbox):
    rate_limit(sandbox, 300)
    first_client, second_client = client_for(organisation), client_for(organisation)

    with pytest.raises(RealtimeKitError) as first:
        first_client.list_meetings()
    with pytest.raises(RealtimeKitError) as second:
        second_client.get_active_session(sandbox.live_meeting_id())

    assert first.value.status == 429
    assert first.value.retry_after == 300
    assert second.value.status == 429
    assert 295 <= second.value.retry_after <= 300
    assert len(sandbox.api_requests()) == 1


def test_cooldown_ends_when_retry_after_has_passed(organisation, sandbox):
    rate_limit(sandbox, 1)
    client = client_for(organisation)
    with pytest.raises(RealtimeKitError):
        client.list_meetings()

    time.sleep(1.2)

    assert client.list_meetings().total_count > 0


def test_cooldown_is_per_organisation(organisation, other_organisation, sandbox):
    rate_limit(sandbox, 300)
    with pytest.raises(RealtimeKitError):
        client_for(organisation).list_meetings()

    with pytest.raises(RealtimeKitError) as other:
        client_for(other_organisation).list_meetings()

    assert other.value.status == 403  # it reached the sandbox, which rejects its account
    assert len(sandbox.api_requests()) == 2


def test_meeting_list_shows_last_known_meetings_during_cooldown(moderator_client, sandbox):
    moderator_client.get(reverse("meeting_list"))
    rate_limit(sandbox, 300)
    moderator_client.get(reverse("meeting_list"))
    calls = len(sandbox.api_requests())

    response = moderator_client.get(reverse("meeting_list"))

    content = response.content.decode()
    assert response.status_code == 200
    assert sandbox.meetings()[0]["title"] in content
    assert "holds back its calls to Cloudflare" in content
    assert "Shown below is what Cloudflare returned at" in content
    assert len(sandbox.api_requests()) == calls


def test_meeting_list_without_earlier_read_explains_the_wait(moderator_client, sandbox):
    rate_limit(sandbox, 300)

    response = moderator_client.get(reverse("meeting_list"))

    content = response.content.decode()
    assert response.status_code == 502
    assert "for 300 seconds. Reload the page" in content


def test_badge_shows_last_known_state_during_cooldown(moderator_client, sandbox):
    meeting_id = sandbox.live_meeting_id()
    url = reverse("meeting_badge", args=[meeting_id])
    moderator_client.get(url, HTTP_HX_REQUEST="true")
    rate_limit(sandbox, 300, path="/meetings$")
    moderator_client.get(reverse("meeting_list"))

    response = moderator_client.get(url, HTTP_HX_REQUEST="true")

    assert "Live ·" in response.content.decode()
    assert "as of" in response.content.decode()


def test_meeting_page_during_cooldown_uses_last_known_meeting(moderator_client, sandbox):
    meeting = sandbox.meeting(sandbox.live_meeting_id())
    url = reverse("meeting_detail", args=[meeting["id"]])
    moderator_client.get(url)
    rate_limit(sandbox, 300, path="/active-session$")
    moderator_client.get(reverse("meeting_badge", args=[meeting["id"]]), HTTP_HX_REQUEST="true")

    response = moderator_client.get(url)

    content = response.content.decode()
    assert response.status_code == 200
    assert meeting["title"] in content
    assert "Live now" in content
    assert "Shown below is what Cloudflare returned at" in content


def test_launch_during_cooldown_sends_nothing(moderator_client, sandbox):
    rate_limit(sandbox, 300)
    moderator_client.get(reverse("meeting_list"))
    calls = len(sandbox.api_requests())

    response = moderator_client.post(
        reverse("launch_poll", args=[sandbox.live_meeting_id()]),
        {"question": "Now?", "options": ["Yes", "No"], "launch_key": uuid.uuid4()},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 502
    assert "holds back its calls" in response.content.decode()
    assert not Poll.objects.exists()
    assert len(sandbox.api_requests()) == calls


def test_cooldown_holds_back_calls_from_many_threads(organisation, sandbox):
    rate_limit(sandbox, 300)
    with pytest.raises(RealtimeKitError):
        client_for(organisation).list_meetings()
    errors = []

    def call():
        try:
            client_for(organisation).get_active_session(sandbox.live_meeting_id())
        except RealtimeKitError as error:
            errors.append(error.status)

    threads = [threading.Thread(target=call) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert errors == [429] * 20
    assert len(sandbox.api_requests()) == 1


@pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs a cache shared between processes"
)
def test_cooldown_shared_across_processes(organisation, sandbox):
    script = f"from polls.cooldown import Cooldown; Cooldown({organisation.pk}).start(300)"
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "dashboard.settings_test"},
        check=True,
        timeout=60,
    )

    with pytest.raises(RealtimeKitError) as raised:
        client_for(organisation).list_meetings()

    assert raised.value.status == 429
    assert sandbox.api_requests() == []
