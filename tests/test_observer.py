"""The observer participant: the preset check, minting and reusing it, refreshing its token,
and the pages that start it."""

import pytest
import requests
from django.urls import reverse

from polls import observer
from polls.models import MeetingFeed, Observer


@pytest.fixture
def sdk_url(settings, sandbox):
    settings.REALTIMEKIT_SDK_URL = f"{sandbox.url}/sandbox/sdk.js"
    return settings.REALTIMEKIT_SDK_URL


def token_for(client, meeting_id, **data):
    return client.post(reverse("observer_token", args=[meeting_id]), data)


def sandbox_accepts(sandbox, token):
    response = requests.get(
        f"{sandbox.url}/sandbox/sdk/participant", params={"token": token}, timeout=5
    )
    return response.status_code == 200


def test_fit_preset_passes_the_check(organisation):
    assert observer.check_preset(organisation).problem == ""


@pytest.mark.parametrize(
    ("preset", "problem"),
    [
        ("", "No observer preset is set"),
        ("backstage", "no preset called “backstage”"),
        ("attendee", "lacks these permissions: hidden participant"),
        ("webinar_host", "lacks these permissions: hidden participant"),
    ],
)
def test_unfit_preset_is_named_with_what_is_wrong(organisation, preset, problem):
    organisation.observer_preset = preset

    assert problem in observer.check_preset(organisation).problem


def test_meeting_page_says_why_live_results_are_off(
    moderator_client, organisation, sandbox, sdk_url
):
    organisation.observer_preset = "attendee"
    organisation.save()

    response = moderator_client.get(reverse("meeting_detail", args=[sandbox.live_meeting_id()]))

    content = response.content.decode()
    assert "The preset “attendee” lacks these permissions" in content
    assert 'id="observer"' not in content


def test_missing_sdk_url_turns_results_off(moderator_client, sandbox):
    response = moderator_client.get(reverse("meeting_detail", args=[sandbox.live_meeting_id()]))

    assert "REALTIMEKIT_SDK_URL is not set" in response.content.decode()


def test_live_meeting_page_starts_observer(moderator_client, sandbox, sdk_url):
    meeting_id = sandbox.live_meeting_id()

    response = moderator_client.get(reverse("meeting_detail", args=[meeting_id]))

    content = response.content.decode()
    assert f'data-sdk-url="{sdk_url}"' in content
    assert reverse("sync_polls", args=[meeting_id]) in content
    policy = response["Content-Security-Policy"]
    assert f"script-src 'self' {sandbox.url}" in policy
    assert f"connect-src 'self' {sandbox.url}" in policy


def test_other_pages_keep_the_strict_policy(moderator_client, sandbox, sdk_url):
    response = moderator_client.get(reverse("meeting_detail", args=[sandbox.idle_meeting_id()]))

    assert 'id="observer"' not in response.content.decode()
    assert sandbox.url not in response["Content-Security-Policy"]


def test_observer_is_minted_once_and_reused(moderator_client, organisation, sandbox):
    meeting_id = sandbox.live_meeting_id()

    first = token_for(moderator_client, meeting_id)
    second = token_for(moderator_client, meeting_id)

    assert first.status_code == second.status_code == 200
    assert first.json()["token"] == second.json()["token"]
    assert first["Cache-Control"].startswith("max-age=0")
    participants = sandbox.meeting(meeting_id)["participants"]
    assert len(participants) == 1
    assert participants[0]["preset_name"] == "observer"
    assert participants[0]["name"] == "Poll dashboard (maya)"
    assert sandbox_accepts(sandbox, first.json()["token"])
    session_id = sandbox.meeting(meeting_id)["session"]["id"]
    assert MeetingFeed.objects.get(meeting_id=meeting_id).session_id == session_id


def test_refused_token_is_refreshed_through_the_token_endpoint(moderator_client, sandbox):
    meeting_id = sandbox.live_meeting_id()
    old = token_for(moderator_client, meeting_id).json()["token"]

    new = token_for(moderator_client, meeting_id, refresh="1").json()["token"]

    assert new != old
    assert len(sandbox.api_requests("POST", "/token")) == 1
    assert len(sandbox.meeting(meeting_id)["participants"]) == 1
    assert sandbox_accepts(sandbox, new)
    assert not sandbox_accepts(sandbox, old)


def test_participant_cloudflare_forgot_is_minted_again(moderator_client, sandbox):
    meeting_id = sandbox.live_meeting_id()
    old = token_for(moderator_client, meeting_id).json()["token"]
    sandbox.reset()  # drops every participant

    response = token_for(moderator_client, meeting_id, refresh="1")

    assert response.status_code == 200
    assert sandbox_accepts(sandbox, response.json()["token"])
    assert response.json()["token"] != old
    assert Observer.objects.count() == 1


def test_no_observer_for_a_meeting_nobody_is_in(moderator_client, sandbox):
    response = token_for(moderator_client, sandbox.idle_meeting_id())

    assert response.status_code == 409
    assert "Nobody is in this meeting" in response.json()["error"]
    assert not Observer.objects.exists()


def test_stored_observer_token_is_encrypted(moderator_client, sandbox):
    token = token_for(moderator_client, sandbox.live_meeting_id()).json()["token"]

    stored = Observer.objects.get()
    assert token not in stored.token_encrypted
    assert stored.token == token


@pytest.mark.parametrize(
    ("fault", "status", "message"),
    [
        ({"status": 503, "body": {"success": False}}, 502, "server error (HTTP 503)"),
        (
            {"status": 429, "body": {"success": False}, "headers": {"Retry-After": "120"}},
            503,
            "rate limit",
        ),
        ({"status": 403, "body": {"success": False}}, 502, "rejected the API token"),
    ],
)
def test_upstream_failure_while_minting_gets_a_clear_answer(
    moderator_client, sandbox, fault, status, message
):
    sandbox.add_fault(method="POST", path="/participants$", **fault)

    response = token_for(moderator_client, sandbox.live_meeting_id())

    assert response.status_code == status
    assert message in response.json()["error"]
    assert not Observer.objects.exists()


def test_failed_preset_check_keeps_page(moderator_client, sandbox, sdk_url):
    sandbox.add_fault(method="GET", path="/presets", status=503, body={"success": False})

    response = moderator_client.get(reverse("meeting_detail", args=[sandbox.live_meeting_id()]))

    content = response.content.decode()
    assert response.status_code == 200
    assert "Could not check the observer preset, so live results are off." in content
    assert "server error (HTTP 503)" in content
    assert 'id="observer"' not in content
