"""Who may reach what: every view, as each kind of user.

Rows: anonymous, a user in no organisation ("loner"), an admin of another organisation
("stranger"), and the viewer, host and admin of the organisation that owns the meeting.
"""

import uuid

import pytest
from django.urls import reverse

from polls.models import Membership, Poll, PollOption

HTMX = {"HTTP_HX_REQUEST": "true"}
USERS = ["anonymous", "loner", "stranger", "viewer", "moderator", "admin"]


@pytest.fixture
def as_user(request, client, db):
    """Return a test client signed in as the named user, or anonymous."""

    def sign_in(name):
        if name != "anonymous":
            client.force_login(request.getfixturevalue(name))
        return client

    return sign_in


@pytest.fixture
def our_poll(organisation, sandbox):
    poll = Poll.objects.create(
        organisation=organisation,
        meeting_id=sandbox.live_meeting_id(),
        upstream_id="upstream-poll-1",
        question="Secret roadmap question?",
    )
    PollOption.objects.create(poll=poll, position=0, text="Yes")
    return poll


def assert_sent_to_login(response):
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


EXPECTED_LIST = {
    "anonymous": 302,
    "loner": 403,
    "stranger": 502,
    "viewer": 200,
    "moderator": 200,
    "admin": 200,
}


@pytest.mark.parametrize("user", USERS)
def test_meeting_list_access(as_user, user, sandbox):
    response = as_user(user).get(reverse("meeting_list"))

    content = response.content.decode()
    assert response.status_code == EXPECTED_LIST[user]
    if user == "anonymous":
        assert_sent_to_login(response)
    shows_meetings = sandbox.meetings()[0]["title"] in content
    assert shows_meetings == (response.status_code == 200)


EXPECTED_MEETING = {
    "anonymous": 302,
    "loner": 403,
    "stranger": 502,
    "viewer": 200,
    "moderator": 200,
    "admin": 200,
}


@pytest.mark.parametrize("user", USERS)
def test_meeting_page_access(as_user, user, sandbox, our_poll):
    meeting = sandbox.meeting(sandbox.live_meeting_id())

    response = as_user(user).get(reverse("meeting_detail", args=[meeting["id"]]))

    content = response.content.decode()
    assert response.status_code == EXPECTED_MEETING[user]
    allowed = response.status_code == 200
    assert (meeting["title"] in content) == allowed
    assert (our_poll.question in content) == allowed
    assert ('name="question"' in content) == (user in ("moderator", "admin"))


@pytest.mark.parametrize("user", USERS)
def test_live_badge_access(as_user, user, sandbox):
    response = as_user(user).get(reverse("meeting_badge", args=[sandbox.live_meeting_id()]), **HTMX)

    content = response.content.decode()
    if user == "anonymous":
        assert response["HX-Redirect"].startswith(reverse("login"))
    elif user == "loner":
        assert response.status_code == 403
    assert ("Live ·" in content) == (user in ("viewer", "moderator", "admin"))


EXPECTED_LAUNCH = {
    "anonymous": 302,
    "loner": 403,
    "stranger": 502,
    "viewer": 403,
    "moderator": 302,
    "admin": 302,
}


@pytest.mark.parametrize("user", USERS)
def test_launch_access(as_user, user, sandbox):
    meeting_id = sandbox.live_meeting_id()
    data = {
        "question": "Who may launch?",
        "options": ["Hosts", "Admins"],
        "launch_key": uuid.uuid4(),
    }

    response = as_user(user).post(reverse("launch_poll", args=[meeting_id]), data)

    allowed = user in ("moderator", "admin")
    assert response.status_code == EXPECTED_LAUNCH[user]
    assert Poll.objects.filter(question="Who may launch?").exists() == allowed
    assert len(sandbox.meeting(meeting_id)["polls"]) == (1 if allowed else 0)
    if not allowed and user != "stranger":
        assert sandbox.api_requests("POST") == []


def test_viewer_is_told_which_role_launching_needs(as_user, sandbox):
    response = as_user("viewer").post(
        reverse("launch_poll", args=[sandbox.live_meeting_id()]),
        {"question": "Q?", "options": ["A", "B"], "launch_key": uuid.uuid4()},
    )

    assert "This needs the host role or higher." in response.content.decode()


EXPECTED_POLL = {
    "anonymous": 302,
    "loner": 403,
    "stranger": 404,
    "viewer": 200,
    "moderator": 200,
    "admin": 200,
}


@pytest.mark.parametrize("user", USERS)
def test_poll_page_access(as_user, user, our_poll):
    response = as_user(user).get(reverse("poll_detail", args=[our_poll.pk]))

    assert response.status_code == EXPECTED_POLL[user]
    assert (our_poll.question in response.content.decode()) == (response.status_code == 200)


def test_user_without_organisation_is_told_why(as_user):
    response = as_user("loner").get(reverse("meeting_list"))

    assert "not part of an organisation" in response.content.decode()


EXPECTED_ADMIN_PAGE = {
    "anonymous": 302,
    "loner": 403,
    "stranger": 200,
    "viewer": 403,
    "moderator": 403,
    "admin": 200,
}


@pytest.mark.parametrize("url_name", ["connection_settings", "members"])
@pytest.mark.parametrize("user", USERS)
def test_admin_pages_access(as_user, user, url_name, organisation):
    response = as_user(user).get(reverse(url_name))

    content = response.content.decode()
    assert response.status_code == EXPECTED_ADMIN_PAGE[user]
    # The stranger is an admin too, but of another organisation: it gets that one's settings.
    ours = organisation.account_id if url_name == "connection_settings" else "Role of ada"
    assert (ours in content) == (user == "admin")


@pytest.mark.parametrize("user", ["viewer", "moderator", "stranger"])
def test_only_our_admins_change_our_members(as_user, user, viewer):
    membership = viewer.membership

    response = as_user(user).post(
        reverse("change_member", args=[membership.pk]), {"action": "remove"}
    )

    assert response.status_code == (404 if user == "stranger" else 403)
    assert Membership.objects.filter(pk=membership.pk).exists()


@pytest.mark.parametrize("user", ["viewer", "moderator", "stranger"])
def test_only_our_admins_change_the_connection(as_user, user, organisation, sandbox):
    response = as_user(user).post(
        reverse("connection_settings"),
        {
            "name": "Taken over",
            "account_id": "c" * 32,
            "app_id": "d" * 32,
            "api_base_url": sandbox.api_url,
        },
    )

    organisation.refresh_from_db()
    assert response.status_code in (403, 422)
    assert organisation.name == "Northwind Webinars"


# The results fragment is reached like the poll page it belongs to.
EXPECTED_RESULTS = EXPECTED_POLL
EXPECTED_EXPORT = {**EXPECTED_RESULTS, "viewer": 403}
SIGNED_IN_MEMBERS = {"viewer", "moderator", "admin"}


@pytest.mark.parametrize("user", USERS)
def test_results_fragment_access(as_user, user, our_poll):
    response = as_user(user).get(reverse("poll_results", args=[our_poll.pk]), **HTMX)

    if user == "anonymous":
        # The response makes htmx load the login page as a whole page.
        assert response.status_code == 200
        assert response["HX-Redirect"].startswith(reverse("login"))
    else:
        assert response.status_code == EXPECTED_RESULTS[user]
    assert ("Yes" in response.content.decode()) == (EXPECTED_RESULTS[user] == 200)


@pytest.mark.parametrize("user", USERS)
def test_voters_list_access(as_user, user, our_poll):
    response = as_user(user).get(reverse("poll_voters", args=[our_poll.pk]))

    if user == "anonymous":
        assert_sent_to_login(response)
    else:
        assert response.status_code == EXPECTED_RESULTS[user]
    assert ("Yes" in response.content.decode()) == (EXPECTED_RESULTS[user] == 200)


@pytest.mark.parametrize("url_name", ["poll_export_csv", "poll_export_json"])
@pytest.mark.parametrize("user", USERS)
def test_export_access(as_user, user, url_name, our_poll):
    response = as_user(user).get(reverse(url_name, args=[our_poll.pk]))

    if user == "anonymous":
        assert_sent_to_login(response)
    else:
        assert response.status_code == EXPECTED_EXPORT[user]
    assert ("Secret roadmap" in response.content.decode()) == (EXPECTED_EXPORT[user] == 200)


EXPECTED_MEETING_POLLS = {**EXPECTED_RESULTS, "stranger": 200}


@pytest.mark.parametrize("user", USERS)
def test_meeting_polls_fragment_access(as_user, user, our_poll):
    url = reverse("meeting_polls", args=[our_poll.meeting_id])

    response = as_user(user).get(url)

    if user == "anonymous":
        assert_sent_to_login(response)
    else:
        assert response.status_code == EXPECTED_MEETING_POLLS[user]
    # The stranger gets its own organisation's polls of that meeting id: none.
    assert ("Secret roadmap" in response.content.decode()) == (user in SIGNED_IN_MEMBERS)


@pytest.mark.parametrize("user", USERS)
def test_sync_access(as_user, user, organisation, our_poll):
    body = {
        "polls": [
            {
                "id": our_poll.upstream_id,
                "question": our_poll.question,
                "anonymous": False,
                "hide_votes": False,
                "created_by": "",
                "options": [{"text": "Yes", "count": 7, "voters": []}],
            }
        ]
    }

    response = as_user(user).post(
        reverse("sync_polls", args=[our_poll.meeting_id]),
        data=body,
        content_type="application/json",
    )

    our_poll.refresh_from_db()
    expected = {"anonymous": 302, "loner": 403}.get(user, 200)
    assert response.status_code == expected
    # Every member forwards what their own page shows, viewers included. A stranger's update
    # lands in the stranger's own organisation and never touches ours.
    assert our_poll.total_votes == (7 if user in SIGNED_IN_MEMBERS else 0)


@pytest.mark.parametrize("user", USERS)
def test_observer_token_access(as_user, user, our_poll, sandbox):
    response = as_user(user).post(reverse("observer_token", args=[our_poll.meeting_id]))

    expected = {"anonymous": 302, "loner": 403, "stranger": 409}.get(user, 200)
    assert response.status_code == expected
    if user == "stranger":
        # The stranger's organisation has no observer preset, and never gets a token for ours.
        assert "No observer preset" in response.json()["error"]
    participants = sandbox.meeting(our_poll.meeting_id)["participants"]
    assert len(participants) == (1 if expected == 200 else 0)
