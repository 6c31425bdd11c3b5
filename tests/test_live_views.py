"""Live results over HTTP: the sync endpoint, the refreshing fragments and the exports."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from polls.feed import MAX_BODY_BYTES
from polls.models import MeetingFeed, Poll

HTMX = {"HTTP_HX_REQUEST": "true"}

# A page learns of a change from the results version, which changes once the change is
# committed, so these tests commit as the server does.
pytestmark = pytest.mark.django_db(transaction=True)


def update(poll_id="rtk-poll-1", counts=(2, 1), *, anonymous=False, ended=False, texts=None):
    texts = texts or [f"Option {index}" for index in range(len(counts))]
    options = [
        {
            "text": text,
            "count": count,
            "voters": []
            if anonymous
            else [{"id": f"p-{index}-{n}", "name": f"Voter {index}-{n}"} for n in range(count)],
        }
        for index, (text, count) in enumerate(zip(texts, counts, strict=True))
    ]
    poll = {
        "id": poll_id,
        "question": "Which city next?",
        "anonymous": anonymous,
        "hide_votes": False,
        "created_by": "Priya",
        "options": options,
    }
    return {"polls": [poll], "ended": ended}


def sync(client, meeting_id, body, **extra):
    return client.post(
        reverse("sync_polls", args=[meeting_id]),
        data=body if isinstance(body, (bytes, str)) else json.dumps(body),
        content_type=extra.pop("content_type", "application/json"),
        **extra,
    )


@pytest.fixture
def meeting_id(sandbox):
    return sandbox.live_meeting_id()


def test_forwarded_update_is_recorded(moderator_client, organisation, meeting_id):
    response = sync(moderator_client, meeting_id, update(counts=(2, 1)))

    assert response.status_code == 200
    assert response.json() == {"changed": 1}
    poll = Poll.objects.get(organisation=organisation, upstream_id="rtk-poll-1")
    assert [option.count for option in poll.options.all()] == [2, 1]
    assert poll.total_votes == 3
    assert poll.created_by == "Priya"


def test_sync_needs_the_csrf_token(moderator, organisation, meeting_id):
    client = Client(enforce_csrf_checks=True)
    client.force_login(moderator)
    client.get(reverse("meeting_detail", args=[meeting_id]))
    token = client.cookies["csrftoken"].value

    refused = sync(client, meeting_id, update())
    accepted = sync(client, meeting_id, update(), HTTP_X_CSRFTOKEN=token)

    assert refused.status_code == 403
    assert accepted.status_code == 200
    assert Poll.objects.filter(organisation=organisation).count() == 1


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b'{"polls": [', "application/json", 400, "not valid JSON"),
        (b"\xff\xfe", "application/json", 400, "not valid UTF-8"),
        ({"polls": [], "extra": 1}, "application/json", 400, "unknown fields: extra"),
        ({"polls": "all"}, "application/json", 400, "polls must be a list"),
        ("polls=1", "application/x-www-form-urlencoded", 415, "application/json"),
        ("{}", "text/plain", 415, "application/json"),
    ],
)
def test_bad_update_is_refused_unrecorded(
    moderator_client, organisation, meeting_id, body, content_type, status, message
):
    response = sync(moderator_client, meeting_id, body, content_type=content_type)

    assert response.status_code == status
    assert message in response.json()["error"]
    assert not Poll.objects.filter(organisation=organisation).exists()
    assert not MeetingFeed.objects.exists()


def test_oversized_update_is_refused(moderator_client, organisation, meeting_id):
    body = json.dumps({"polls": [], "padding": "x" * MAX_BODY_BYTES})

    response = sync(moderator_client, meeting_id, body)

    assert response.status_code == 413
    assert "limit" in response.json()["error"]
    assert not MeetingFeed.objects.exists()


def test_update_with_other_options_than_recorded_is_refused(moderator_client, meeting_id):
    sync(moderator_client, meeting_id, update(counts=(1, 0)))

    response = sync(moderator_client, meeting_id, update(counts=(1, 0, 0)))

    assert response.status_code == 422
    assert "other options" in response.json()["error"]


@pytest.fixture
def session_id(organisation, meeting_id, sandbox):
    """Return the live session's id, noted as observed as the observer token view does."""
    session_id = sandbox.meeting(meeting_id)["session"]["id"]
    MeetingFeed.objects.create(
        organisation=organisation, meeting_id=meeting_id, session_id=session_id
    )
    return session_id


def observed_poll(client, meeting_id, counts):
    sync(client, meeting_id, update(counts=counts))
    return Poll.objects.get(upstream_id="rtk-poll-1")


def results_url(poll, **query):
    url = reverse("poll_results", args=[poll.pk])
    query = {"meeting": poll.meeting_id, **query}
    return url + "?" + "&".join(f"{name}={value}" for name, value in query.items())


def test_unchanged_poll_fragment_gets_204(moderator_client, meeting_id, session_id):
    poll = observed_poll(moderator_client, meeting_id, counts=(1, 0))

    first = moderator_client.get(results_url(poll, session=session_id), **HTMX)
    seen = first.context["seen"]
    unchanged = moderator_client.get(results_url(poll, session=session_id, seen=seen), **HTMX)
    sync(moderator_client, meeting_id, update(counts=(1, 2)))
    changed = moderator_client.get(results_url(poll, session=session_id, seen=seen), **HTMX)

    assert first.status_code == 200
    assert 'hx-trigger="every 1s"' in first.content.decode()
    assert unchanged.status_code == 204
    assert unchanged.content == b""
    assert changed.status_code == 200
    assert "<strong>2</strong> votes · 67%" in changed.content.decode()


def test_poll_fragment_stops_refreshing_once_the_session_ended(
    moderator_client, meeting_id, session_id
):
    poll = observed_poll(moderator_client, meeting_id, counts=(1, 0))
    seen = moderator_client.get(results_url(poll, session=session_id), **HTMX).context["seen"]

    sync(moderator_client, meeting_id, update(counts=(3, 1), ended=True))
    final = moderator_client.get(results_url(poll, session=session_id, seen=seen), **HTMX)

    content = final.content.decode()
    assert final.status_code == 200
    assert "every 1s" not in content
    assert "Session ended · final results" in content
    assert "<strong>4</strong> votes in total" in content


def test_quiet_feed_is_named_in_fragment(moderator_client, meeting_id, session_id):
    poll = observed_poll(moderator_client, meeting_id, counts=(1, 0))
    MeetingFeed.objects.update(last_reported_at=timezone.now() - timedelta(seconds=40))

    response = moderator_client.get(results_url(poll, session=session_id), **HTMX)

    assert "No update for 40 s — is a moderator page open on this meeting?" in (
        response.content.decode()
    )
    assert 'hx-trigger="every 1s"' in response.content.decode()


def test_meeting_list_fragment_shows_polls_created_by_others(moderator_client, meeting_id, sandbox):
    session_id = sandbox.meeting(meeting_id)["session"]["id"]
    url = reverse("meeting_polls", args=[meeting_id]) + f"?session={session_id}"
    empty = moderator_client.get(url, **HTMX)
    sync(moderator_client, meeting_id, update(counts=(2, 1)))

    unchanged_token = moderator_client.get(url + f"&seen={empty.context['seen']}", **HTMX)

    content = unchanged_token.content.decode()
    assert unchanged_token.status_code == 200
    assert "Which city next?" in content
    assert "Created in the meeting by Priya" in content
    assert "Who voted" in content
    again = moderator_client.get(url + f"&seen={unchanged_token.context['seen']}", **HTMX)
    assert again.status_code == 204


def test_meeting_page_lists_polls_with_totals(moderator_client, meeting_id):
    sync(moderator_client, meeting_id, update(counts=(2, 1)))

    response = moderator_client.get(reverse("meeting_detail", args=[meeting_id]))

    content = response.content.decode()
    assert "Polls in this meeting" in content
    assert "<strong>3</strong> votes in total" in content
    assert 'hx-trigger="every 1s"' in content


def test_past_session_poll_page_is_static(moderator_client, meeting_id, sandbox):
    sync(moderator_client, meeting_id, update(counts=(2, 1)))
    sandbox.control("DELETE", f"/meetings/{meeting_id}/session")
    poll = Poll.objects.get(upstream_id="rtk-poll-1")

    response = moderator_client.get(reverse("poll_detail", args=[poll.pk]))

    content = response.content.decode()
    assert response.status_code == 200
    assert "every 1s" not in content
    assert "<strong>3</strong> votes in total" in content
    assert "Final results" in content


def test_csv_export_rows_per_option(moderator_client, meeting_id):
    sync(moderator_client, meeting_id, update(counts=(2, 1)))
    poll = Poll.objects.get(upstream_id="rtk-poll-1")

    response = moderator_client.get(reverse("poll_export_csv", args=[poll.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="poll-{poll.pk}-results.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["question", "option", "votes", "percent", "voters"],
        ["Which city next?", "Option 0", "2", "67", "Voter 0-0; Voter 0-1"],
        ["Which city next?", "Option 1", "1", "33", "Voter 1-0"],
    ]


def test_exports_of_an_anonymous_poll_carry_no_names(moderator_client, meeting_id):
    sync(moderator_client, meeting_id, update(counts=(2, 1), anonymous=True))
    poll = Poll.objects.get(upstream_id="rtk-poll-1")

    as_csv = moderator_client.get(reverse("poll_export_csv", args=[poll.pk])).content.decode()
    as_json = moderator_client.get(reverse("poll_export_json", args=[poll.pk])).json()

    assert as_csv.splitlines()[0] == "question,option,votes,percent"
    assert "Voter" not in as_csv
    assert as_json["anonymous"] is True
    assert [option["votes"] for option in as_json["options"]] == [2, 1]
    assert all("voters" not in option for option in as_json["options"])


def test_json_export_matches_the_recorded_counts(moderator_client, meeting_id):
    sync(moderator_client, meeting_id, update(counts=(2, 1)))
    poll = Poll.objects.get(upstream_id="rtk-poll-1")

    data = moderator_client.get(reverse("poll_export_json", args=[poll.pk])).json()

    assert data["upstream_id"] == "rtk-poll-1"
    assert data["launched_from_dashboard"] is False
    assert data["created_by"] == "Priya"
    assert data["meeting_id"] == meeting_id
    assert data["total_votes"] == 3
    assert data["options"][0] == {
        "text": "Option 0",
        "votes": 2,
        "percent": 67,
        "voters": [{"id": "p-0-0", "name": "Voter 0-0"}, {"id": "p-0-1", "name": "Voter 0-1"}],
    }


def test_csv_export_does_not_run_formulas(moderator_client, meeting_id):
    sync(moderator_client, meeting_id, update(counts=(1, 0), texts=["=HYPERLINK(1)", "+1"]))
    poll = Poll.objects.get(upstream_id="rtk-poll-1")

    rows = list(
        csv.reader(
            io.StringIO(
                moderator_client.get(reverse("poll_export_csv", args=[poll.pk])).content.decode()
            )
        )
    )

    assert [row[1] for row in rows[1:]] == ["'=HYPERLINK(1)", "'+1"]


def test_update_larger_than_a_form_is_accepted(moderator_client, organisation, meeting_id):
    body = update(counts=(6000, 4000))
    assert len(json.dumps(body)) > 64 * 1024  # Django's limit for form bodies

    response = sync(moderator_client, meeting_id, body)

    assert response.status_code == 200
    poll = Poll.objects.get(organisation=organisation)
    assert poll.total_votes == 10_000
    assert len(poll.options.all()[0].voters) == 6000


@pytest.mark.parametrize(("user", "links"), [("moderator", True), ("viewer", False)])
def test_refreshed_list_offers_exports_to_hosts_only(
    request, client, user, links, meeting_id, sandbox
):
    client.force_login(request.getfixturevalue(user))
    sync(client, meeting_id, update(counts=(1, 0)))

    response = client.get(reverse("meeting_polls", args=[meeting_id]), **HTMX)

    assert ("export.csv" in response.content.decode()) == links


def test_session_reported_live_again_is_not_ended(moderator_client, meeting_id, session_id):
    # A restarted sandbox starts its seeded sessions again under the same ids.
    observed_poll(moderator_client, meeting_id, counts=(1, 0))
    sync(moderator_client, meeting_id, {"polls": [], "ended": True})

    response = moderator_client.get(reverse("meeting_detail", args=[meeting_id]))

    content = response.content.decode()
    assert MeetingFeed.objects.get().ended_at is None
    assert 'hx-trigger="every 1s"' in content
    assert "Session ended" not in content


def test_ended_session_replaces_live_line(moderator_client, meeting_id, session_id):
    url = reverse("meeting_polls", args=[meeting_id]) + f"?session={session_id}"
    observed_poll(moderator_client, meeting_id, counts=(1, 0))
    live = moderator_client.get(url, **HTMX).content.decode()

    sync(moderator_client, meeting_id, {"polls": [], "ended": True})
    ended = moderator_client.get(url, **HTMX).content.decode()

    assert 'id="live-session"' not in live
    assert 'id="live-session" class="session" aria-label="Live session" hx-swap-oob="true"' in ended
    assert "The session has ended." in ended


def test_poll_without_votes_names_no_vote_time(moderator_client, meeting_id, session_id):
    poll = observed_poll(moderator_client, meeting_id, counts=(0, 0))

    content = moderator_client.get(results_url(poll, session=session_id), **HTMX).content.decode()

    assert "<strong>0</strong> votes in total" in content
    assert "last vote counted" not in content


def test_leading_option_is_marked(moderator_client, meeting_id, session_id):
    poll = observed_poll(moderator_client, meeting_id, counts=(1, 3))

    content = moderator_client.get(results_url(poll, session=session_id), **HTMX).content.decode()

    assert content.count("poll-option leading") == 1
    assert content.index("poll-option leading") > content.index("Option 0")


@pytest.mark.parametrize(("user", "replaced"), [("moderator", True), ("viewer", False)])
def test_ended_session_closes_the_launcher(request, client, user, replaced, meeting_id, session_id):
    client.force_login(request.getfixturevalue(user))
    url = reverse("meeting_polls", args=[meeting_id]) + f"?session={session_id}"
    sync(client, meeting_id, {"polls": [], "ended": True})

    content = client.get(url, **HTMX).content.decode()

    # A viewer's page has no launcher, and htmx reports an out-of-band swap with no target.
    assert ('id="launcher" class="launcher" hx-swap-oob="true"' in content) == replaced


def voters_url(poll):
    return reverse("poll_voters", args=[poll.pk])


def test_live_results_leave_names_to_the_voters_list(moderator_client, meeting_id, session_id):
    poll = observed_poll(moderator_client, meeting_id, counts=(2, 1))

    results = moderator_client.get(results_url(poll, session=session_id), **HTMX)
    voters = moderator_client.get(voters_url(poll), **HTMX)

    assert "Voter 0-1" not in results.content.decode()
    assert f'hx-get="{voters_url(poll)}"' in results.content.decode()
    assert voters.status_code == 200
    assert "<dd>Voter 0-0, Voter 0-1</dd>" in voters.content.decode()
    assert "<dd>Voter 1-0</dd>" in voters.content.decode()


def test_voters_list_without_javascript_is_a_page(moderator_client, meeting_id):
    poll = observed_poll(moderator_client, meeting_id, counts=(2, 1))

    page = moderator_client.get(voters_url(poll))

    assert page.status_code == 200
    assert "<h1>Who voted: Which city next?</h1>" in page.content.decode()
    assert "Voter 1-0" in page.content.decode()


def test_voters_list_shows_the_first_200_names(moderator_client, meeting_id):
    poll = observed_poll(moderator_client, meeting_id, counts=(250, 0))

    content = moderator_client.get(voters_url(poll), **HTMX).content.decode()

    assert "Voter 0-199 and 50 more (all are in the export)" in content
    assert "Voter 0-200" not in content


def test_anonymous_poll_has_no_voters_list(moderator_client, meeting_id):
    sync(moderator_client, meeting_id, update(counts=(2, 1), anonymous=True))
    poll = Poll.objects.get(upstream_id="rtk-poll-1")

    assert moderator_client.get(voters_url(poll), **HTMX).status_code == 404
    assert "Who voted" not in moderator_client.get(results_url(poll)).content.decode()
