"""Screens and fragments, through Django's test client, against the sandbox over a real socket."""

import uuid
from datetime import datetime

from django.urls import reverse

from polls.models import Poll
from tests.support import AUTHENTICATION_ERROR, SANDBOX_API_TOKEN

HTMX = {"HTTP_HX_REQUEST": "true"}


def launch_data(question="Which session next?", options=("Keynote", "Workshop"), **fields):
    return {"question": question, "options": list(options), "launch_key": uuid.uuid4(), **fields}


def launch(client, meeting_id, htmx=True, **data):
    url = reverse("launch_poll", args=[meeting_id])
    return client.post(url, launch_data(**data), **(HTMX if htmx else {}))


# Routing


def test_login_and_health_are_open(client, db):
    assert client.get(reverse("login")).status_code == 200
    assert client.get(reverse("healthz")).status_code == 200


def test_launch_only_accepts_post(moderator_client, sandbox):
    response = moderator_client.get(reverse("launch_poll", args=[sandbox.live_meeting_id()]))

    assert response.status_code == 405


def test_meeting_id_with_dot_segments_is_not_routed(moderator_client):
    response = moderator_client.get("/meetings/..%2F..%2Fapps/")

    assert response.status_code == 404


# Health


def test_healthz_reports_database_and_cache(client, db):
    response = client.get(reverse("healthz"))

    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


# Meeting picker


def test_meeting_list_shows_first_page(moderator_client, sandbox):
    response = moderator_client.get(reverse("meeting_list"))

    content = response.content.decode()
    assert response.status_code == 200
    assert f"Page 1 of 2 · {len(sandbox.meetings())} meetings" in content
    assert 'rel="next"' in content


def test_meeting_list_second_page_has_the_rest(moderator_client, sandbox):
    response = moderator_client.get(reverse("meeting_list"), {"page": 2})

    content = response.content.decode()
    assert content.count("<tr>") - 1 == len(sandbox.meetings()) - 10
    assert 'rel="prev"' in content
    assert 'rel="next"' not in content


def test_meeting_list_past_last_page(moderator_client, sandbox):
    response = moderator_client.get(reverse("meeting_list"), {"page": 99})

    content = response.content.decode()
    assert "Page 99 is past the last page" in content
    assert "This app has no meetings yet" not in content


def test_meeting_list_search_finds_non_ascii_title(moderator_client, sandbox):
    title = max(
        (m["title"] for m in sandbox.meetings()), key=lambda t: sum(ord(c) > 127 for c in t)
    )

    response = moderator_client.get(reverse("meeting_list"), {"q": title[:12]})

    assert title in response.content.decode()


def test_meeting_list_search_says_when_nothing_matches(moderator_client, sandbox):
    response = moderator_client.get(reverse("meeting_list"), {"q": "zzz-no-such-meeting"})

    assert "No meeting matches “zzz-no-such-meeting”." in response.content.decode()


def test_meeting_list_htmx_returns_only_the_results(moderator_client, sandbox):
    response = moderator_client.get(reverse("meeting_list"), {"q": "a"}, **HTMX)

    content = response.content.decode()
    assert content.lstrip().startswith('<section id="results"')
    assert "<html" not in content


def test_meeting_list_loads_badges_after_the_page(moderator_client, sandbox):
    response = moderator_client.get(reverse("meeting_list"))

    assert 'hx-trigger="load"' in response.content.decode()
    assert sandbox.api_requests("GET", "/active-session") == []


def test_meeting_list_explains_a_rejected_token(moderator_client, sandbox):
    sandbox.add_fault(
        path="/meetings$",
        status=403,
        body=AUTHENTICATION_ERROR,
    )

    response = moderator_client.get(reverse("meeting_list"))

    assert response.status_code == 502
    assert "Cloudflare rejected the API token" in response.content.decode()


def test_meeting_list_never_renders_the_token(moderator_client, sandbox):
    response = moderator_client.get(reverse("meeting_list"))

    assert SANDBOX_API_TOKEN not in response.content.decode()


def test_badge_shows_participants_of_a_live_meeting(moderator_client, sandbox):
    meeting = next(m for m in sandbox.meetings() if m["session"])
    count = meeting["session"]["live_participants"]

    response = moderator_client.get(reverse("meeting_badge", args=[meeting["id"]]), **HTMX)

    assert f"Live · {count} participant" in response.content.decode()


def test_badge_shows_not_live(moderator_client, sandbox):
    response = moderator_client.get(
        reverse("meeting_badge", args=[sandbox.idle_meeting_id()]), **HTMX
    )

    assert "Not live" in response.content.decode()


def test_badge_survives_an_upstream_failure(moderator_client, sandbox):
    sandbox.add_fault(path="/active-session$", status=500)

    response = moderator_client.get(
        reverse("meeting_badge", args=[sandbox.live_meeting_id()]), **HTMX
    )

    assert response.status_code == 200
    assert "Live state unavailable" in response.content.decode()


# Meeting page


def test_meeting_page_shows_the_live_session(moderator_client, sandbox):
    meeting = next(m for m in sandbox.meetings() if m["session"])

    response = moderator_client.get(reverse("meeting_detail", args=[meeting["id"]]))

    content = response.content.decode()
    assert meeting["title"] in content
    assert "Live now" in content
    assert 'name="options"' in content


def test_meeting_page_says_when_nobody_is_in(moderator_client, sandbox):
    response = moderator_client.get(reverse("meeting_detail", args=[sandbox.idle_meeting_id()]))

    assert "Nobody is in this meeting right now" in response.content.decode()


def test_inactive_meeting_page_says_nobody_can_join(moderator_client, sandbox):
    response = moderator_client.get(reverse("meeting_detail", args=[sandbox.inactive_meeting_id()]))

    assert "inactive: nobody can join" in response.content.decode()


def test_inactive_meeting_page_has_no_launch_form(moderator_client, sandbox):
    response = moderator_client.get(reverse("meeting_detail", args=[sandbox.inactive_meeting_id()]))

    content = response.content.decode()
    assert 'name="question"' not in content
    assert "Activate this meeting in RealtimeKit first" in content


def test_unknown_meeting_is_a_404_page(moderator_client, sandbox):
    response = moderator_client.get(
        reverse("meeting_detail", args=["00000000-0000-4000-8000-000000000000"])
    )

    content = response.content.decode()
    assert response.status_code == 404
    assert "Could not load this meeting" in content
    assert "Try again" not in content


def test_meeting_page_survives_a_cloudflare_outage(moderator_client, sandbox):
    sandbox.add_fault(path="/meetings/", status=503)

    response = moderator_client.get(reverse("meeting_detail", args=[sandbox.live_meeting_id()]))

    assert response.status_code == 502
    assert "server error (HTTP 503)" in response.content.decode()


# Launching


def test_launch_stores_and_shows_the_poll(moderator_client, moderator, sandbox):
    meeting_id = sandbox.live_meeting_id()

    response = launch(moderator_client, meeting_id, anonymous="on")

    poll = Poll.objects.get()
    upstream = sandbox.meeting(meeting_id)["polls"]
    content = response.content.decode()
    assert response.status_code == 200
    assert [p["id"] for p in upstream] == [poll.upstream_id]
    assert poll.meeting_id == meeting_id
    assert poll.launched_by == moderator
    assert poll.anonymous is True
    assert [o.text for o in poll.options.all()] == ["Keynote", "Workshop"]
    assert "Poll launched" in content
    assert 'hx-swap-oob="true"' in content
    assert "Anonymous" in content
    assert "Launched by maya" in content


def test_launch_records_the_live_session(moderator_client, sandbox):
    meeting = next(m for m in sandbox.meetings() if m["session"])

    launch(moderator_client, meeting["id"])

    assert Poll.objects.get().session_id == meeting["session"]["id"]


def test_plain_launch_redirects_to_the_poll(moderator_client, sandbox):
    response = launch(moderator_client, sandbox.live_meeting_id(), htmx=False)

    assert response.status_code == 302
    assert response["Location"] == reverse("poll_detail", args=[Poll.objects.get().pk])


def test_launch_into_idle_meeting_explains_and_stores_nothing(moderator_client, sandbox):
    response = launch(moderator_client, sandbox.idle_meeting_id(), question="Keep me?")

    content = response.content.decode()
    assert response.status_code == 409
    assert "Nobody is in this meeting right now" in content
    assert 'value="Keep me?"' in content
    assert not Poll.objects.exists()
    assert sandbox.api_requests("POST") == []


def test_launch_when_session_ends_between_calls(moderator_client, sandbox):
    sandbox.add_fault(
        method="POST",
        path="/poll$",
        status=404,
        body={"success": False, "error": {"code": 404, "message": "No active session found"}},
    )

    response = launch(moderator_client, sandbox.live_meeting_id())

    assert response.status_code == 409
    assert "Nobody is in this meeting right now" in response.content.decode()
    assert not Poll.objects.exists()


def test_launch_with_rejected_token_keeps_the_input(moderator_client, sandbox, organisation):
    organisation.api_token = "revoked-token"
    organisation.save()

    response = launch(moderator_client, sandbox.live_meeting_id(), options=["Red", "Blue", "Green"])

    content = response.content.decode()
    assert "Cloudflare rejected the API token" in content
    for option in ["Red", "Blue", "Green"]:
        assert f'value="{option}"' in content
    assert not Poll.objects.exists()


def test_launch_upstream_failure_is_never_a_500(moderator_client, sandbox):
    sandbox.add_fault(method="POST", path="/poll$", status=500, body="<html>oops</html>")

    response = launch(moderator_client, sandbox.live_meeting_id())

    assert response.status_code == 502
    assert "The poll was not launched" in response.content.decode()
    assert not Poll.objects.exists()


def test_launch_with_unknown_outcome_says_so(moderator_client, sandbox, settings):
    settings.REALTIMEKIT_READ_TIMEOUT = 0.2
    sandbox.add_fault(method="POST", path="/poll$", delay_ms=500)

    response = launch(moderator_client, sandbox.live_meeting_id())

    content = response.content.decode()
    assert response.status_code == 502
    assert "may or may not have been made" in content
    assert "The poll was not launched" not in content
    assert 'hx-swap-oob="true"' in content
    assert "Unconfirmed: Cloudflare did not respond" in content
    assert len(sandbox.wait_for_requests(1, "POST", "/poll")) == 1


def test_plain_launch_message_survives_meeting_error(moderator_client, sandbox, settings):
    settings.REALTIMEKIT_READ_TIMEOUT = 0.2
    sandbox.add_fault(method="POST", path="/poll$", delay_ms=500)
    sandbox.add_fault(method="GET", path="/meetings/[^/]+$", status=502)

    response = launch(moderator_client, sandbox.live_meeting_id(), htmx=False)

    content = response.content.decode()
    assert response.status_code == 502
    assert "may or may not have been made" in content
    assert "Could not load this meeting" in content
    assert len(sandbox.wait_for_requests(1, "POST", "/poll")) == 1


def test_plain_launch_failure_renders_the_whole_page(moderator_client, sandbox):
    response = launch(moderator_client, sandbox.idle_meeting_id(), htmx=False, question="Keep me?")

    content = response.content.decode()
    assert response.status_code == 409
    assert "<html" in content
    assert 'value="Keep me?"' in content


def test_invalid_launch_shows_errors_and_sends_nothing(moderator_client, sandbox):
    response = launch(
        moderator_client, sandbox.live_meeting_id(), question="Dupes?", options=["Yes", "YES", ""]
    )

    content = response.content.decode()
    assert response.status_code == 422
    assert "appears twice" in content
    assert 'value="Dupes?"' in content
    assert content.count('name="options"') == 3
    assert sandbox.api_requests("POST") == []
    assert sandbox.api_requests() == []


def test_html_in_question_is_shown_escaped(moderator_client, sandbox):
    question = '<script>alert("x")</script><b>bold</b>'

    launch(moderator_client, sandbox.live_meeting_id(), question=question)
    response = moderator_client.get(reverse("poll_detail", args=[Poll.objects.get().pk]))

    content = response.content.decode()
    assert '<script>alert("x")</script>' not in content
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in content


def test_emoji_and_rtl_text_reach_cloudflare(moderator_client, sandbox):
    meeting_id = sandbox.live_meeting_id()
    question = "מה דעתכם? 🎉"
    options = ["👍 نعم", "👎 לא"]

    launch(moderator_client, meeting_id, question=question, options=options)

    upstream = sandbox.meeting(meeting_id)["polls"][0]
    assert upstream["question"] == question
    assert [o["text"] for o in upstream["options"]] == options
    assert Poll.objects.get().question == question


def test_meeting_page_lists_polls_launched_there(moderator_client, sandbox):
    meeting_id = sandbox.live_meeting_id()
    launch(moderator_client, meeting_id, question="First?")
    launch(moderator_client, meeting_id, question="Second?")

    content = moderator_client.get(reverse("meeting_detail", args=[meeting_id])).content.decode()

    assert content.index("Second?") < content.index("First?")


def test_expired_session_sends_htmx_to_the_login_page(client, db):
    response = client.get(
        reverse("meeting_badge", args=["m-1"]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/meetings/?q=town%20hall",
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == "/login/?next=/meetings/%3Fq%3Dtown%2520hall"


def test_meeting_page_shows_when_the_session_started(moderator_client, sandbox):
    response = moderator_client.get(reverse("meeting_detail", args=[sandbox.live_meeting_id()]))

    started_at = response.context["session"]["started_at"]
    content = response.content.decode()
    assert isinstance(started_at, datetime)
    assert f'<time datetime="{started_at.isoformat()}">' in content
    assert "ago)" in content
