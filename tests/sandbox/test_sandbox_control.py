"""Control endpoints: health, overview, sessions, participant polls, votes and reset."""

import pytest
import requests

from sandbox import seed

AUTH = {"Authorization": f"Bearer {seed.API_TOKEN}"}
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
TOWN_HALL_SESSION = "5d4c3b2a-1908-4e7f-a6b5-c4d3e2f10002"


def control(sandbox_url: str, method: str, path: str, body: object = None) -> requests.Response:
    return requests.request(method, f"{sandbox_url}/sandbox{path}", json=body, timeout=5)


def overview(sandbox_url: str) -> dict[str, dict]:
    meetings = control(sandbox_url, "GET", "/meetings").json()["meetings"]
    return {meeting["id"]: meeting for meeting in meetings}


def create_poll(sandbox_url: str, meeting_id: str, **fields) -> dict:
    body = {"question": "Best day?", "options": ["Mon", "Tue", "Wed"], **fields}
    response = control(sandbox_url, "POST", f"/meetings/{meeting_id}/polls", body)
    assert response.status_code == 201
    return response.json()["poll"]


def vote(sandbox_url: str, meeting_id: str, poll_id: str, body: object) -> requests.Response:
    return control(sandbox_url, "POST", f"/meetings/{meeting_id}/polls/{poll_id}/votes", body)


def active_session(kit_url: str, meeting_id: str) -> requests.Response:
    url = f"{kit_url}/meetings/{meeting_id}/active-session"
    return requests.get(url, headers=AUTH, timeout=5)


def test_healthz_reports_ok(sandbox_url):
    response = control(sandbox_url, "GET", "/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_overview_lists_every_meeting_newest_first(sandbox_url):
    meetings = control(sandbox_url, "GET", "/meetings").json()["meetings"]

    assert [meeting["id"] for meeting in meetings] == [meeting.id for meeting in seed.MEETINGS]
    assert meetings[0]["title"] == "Quarterly product update: Q4 roadmap"
    assert meetings[0]["polls"] == []


def test_overview_shows_seeded_sessions(sandbox_url):
    meetings = overview(sandbox_url)

    town_hall = meetings[seed.MEETING_TOWN_HALL]["session"]
    assert town_hall["id"] == TOWN_HALL_SESSION
    assert town_hall["live_participants"] == 230
    assert town_hall["started_at"].endswith("Z")
    assert meetings[seed.MEETING_NON_ASCII]["session"] is None
    assert sum(meeting["session"] is not None for meeting in meetings.values()) == 4


def test_start_session_makes_the_meeting_live(sandbox_url, kit_url):
    response = control(
        sandbox_url, "POST", f"/meetings/{seed.MEETING_NON_ASCII}/session", {"participants": 7}
    )

    session = active_session(kit_url, seed.MEETING_NON_ASCII).json()["data"]
    assert response.status_code == 201
    assert response.json()["session"]["live_participants"] == 7
    assert session["id"] == response.json()["session"]["id"]
    assert session["live_participants"] == 7
    assert session["meeting_display_name"] == seed.NON_ASCII_TITLE


def test_start_session_defaults_to_one_participant(sandbox_url):
    response = requests.post(
        f"{sandbox_url}/sandbox/meetings/{seed.MEETING_ACCESSIBILITY}/session", timeout=5
    )

    assert response.status_code == 201
    assert response.json()["session"]["live_participants"] == 1


def test_start_session_accepts_zero_participants(sandbox_url):
    response = control(
        sandbox_url, "POST", f"/meetings/{seed.MEETING_ACCESSIBILITY}/session", {"participants": 0}
    )

    assert response.status_code == 201
    assert response.json()["session"]["live_participants"] == 0


def test_start_session_conflicts_with_a_live_one(sandbox_url):
    response = control(sandbox_url, "POST", f"/meetings/{seed.MEETING_TOWN_HALL}/session")

    assert response.status_code == 409
    assert TOWN_HALL_SESSION in response.json()["error"]


def test_start_session_conflicts_with_inactive_meeting(sandbox_url):
    response = control(sandbox_url, "POST", f"/meetings/{seed.MEETING_PRIVACY_101}/session")

    assert response.status_code == 409
    assert "INACTIVE" in response.json()["error"]


@pytest.mark.parametrize("participants", [-1, "3", True, 2.5])
def test_start_session_rejects_bad_participant_count(sandbox_url, participants):
    body = {"participants": participants}

    response = control(sandbox_url, "POST", f"/meetings/{seed.MEETING_NON_ASCII}/session", body)

    assert response.status_code == 400
    assert "participants" in response.json()["error"]


def test_start_session_of_unknown_meeting_is_not_found(sandbox_url):
    response = control(sandbox_url, "POST", f"/meetings/{UNKNOWN_ID}/session")

    assert response.status_code == 404
    assert UNKNOWN_ID in response.json()["error"]


def test_end_session_leaves_nothing_live(sandbox_url, kit_url):
    response = control(sandbox_url, "DELETE", f"/meetings/{seed.MEETING_TOWN_HALL}/session")

    assert response.status_code == 200
    assert response.json()["session"]["id"] == TOWN_HALL_SESSION
    assert response.json()["session"]["ended_at"].endswith("Z")
    assert active_session(kit_url, seed.MEETING_TOWN_HALL).status_code == 404
    assert overview(sandbox_url)[seed.MEETING_TOWN_HALL]["session"] is None


def test_end_session_without_live_one_is_not_found(sandbox_url):
    response = control(sandbox_url, "DELETE", f"/meetings/{seed.MEETING_NON_ASCII}/session")

    assert response.status_code == 404


def test_ended_session_polls_stay_listed(sandbox_url):
    poll = create_poll(sandbox_url, seed.MEETING_TOWN_HALL)
    control(sandbox_url, "DELETE", f"/meetings/{seed.MEETING_TOWN_HALL}/session")

    polls = overview(sandbox_url)[seed.MEETING_TOWN_HALL]["polls"]
    assert [listed["id"] for listed in polls] == [poll["id"]]
    assert polls[0]["session_id"] == TOWN_HALL_SESSION


def test_new_session_starts_without_polls(sandbox_url):
    old_poll = create_poll(sandbox_url, seed.MEETING_TOWN_HALL)
    control(sandbox_url, "DELETE", f"/meetings/{seed.MEETING_TOWN_HALL}/session")
    started = control(sandbox_url, "POST", f"/meetings/{seed.MEETING_TOWN_HALL}/session")

    new_session_id = started.json()["session"]["id"]
    polls = overview(sandbox_url)[seed.MEETING_TOWN_HALL]["polls"]
    assert new_session_id != TOWN_HALL_SESSION
    assert [poll for poll in polls if poll["session_id"] == new_session_id] == []
    assert old_poll["session_id"] == TOWN_HALL_SESSION


def test_vote_on_poll_of_ended_session_conflicts(sandbox_url):
    poll = create_poll(sandbox_url, seed.MEETING_TOWN_HALL)
    control(sandbox_url, "DELETE", f"/meetings/{seed.MEETING_TOWN_HALL}/session")
    control(sandbox_url, "POST", f"/meetings/{seed.MEETING_TOWN_HALL}/session")

    response = vote(
        sandbox_url, seed.MEETING_TOWN_HALL, poll["id"], {"option": 0, "voter_id": "v1"}
    )

    assert response.status_code == 409
    assert "ended" in response.json()["error"]


def test_participant_poll_has_the_given_creator(sandbox_url):
    poll = create_poll(sandbox_url, seed.MEETING_ONBOARDING, created_by="Priya (speaker)")

    listed = overview(sandbox_url)[seed.MEETING_ONBOARDING]["polls"]
    assert poll["created_by"] == "Priya (speaker)"
    assert poll["session_id"] == "5d4c3b2a-1908-4e7f-a6b5-c4d3e2f10003"
    assert listed == [poll]


def test_participant_poll_has_a_default_creator(sandbox_url):
    poll = create_poll(sandbox_url, seed.MEETING_ONBOARDING)

    assert poll["created_by"] == "Meeting participant"
    assert poll["voted"] == []


def test_api_poll_shows_up_in_the_overview(sandbox_url, kit_url):
    url = f"{kit_url}/meetings/{seed.MEETING_OFFICE_HOURS}/active-session/poll"
    body = {"question": "Clear?", "options": ["Yes", "No"], "anonymous": True}
    created = requests.post(url, json=body, headers=AUTH, timeout=5).json()["data"]["poll"]

    polls = overview(sandbox_url)[seed.MEETING_OFFICE_HOURS]["polls"]
    assert polls == [{**created, "session_id": "5d4c3b2a-1908-4e7f-a6b5-c4d3e2f10004"}]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"question": "Q?", "options": ["A"]}, "options"),
        ({"question": "Q?", "options": ["A", "B"], "created_by": " "}, "created_by"),
        ({"question": "Q?", "options": ["A", "B"], "created_by": 3}, "created_by"),
    ],
)
def test_participant_poll_rejects_bad_body(sandbox_url, body, field):
    response = control(sandbox_url, "POST", f"/meetings/{seed.MEETING_ONBOARDING}/polls", body)

    assert response.status_code == 400
    assert field in response.json()["error"]


def test_participant_poll_needs_a_live_session(sandbox_url):
    body = {"question": "Q?", "options": ["A", "B"]}

    response = control(sandbox_url, "POST", f"/meetings/{seed.MEETING_NON_ASCII}/polls", body)

    assert response.status_code == 404
    assert "No active session" in response.json()["error"]


def test_vote_counts_and_names_the_voter(sandbox_url):
    poll = create_poll(sandbox_url, seed.MEETING_ONBOARDING)
    body = {"option": 1, "voter_id": "p-17", "voter_name": "Ana Souza"}

    response = vote(sandbox_url, seed.MEETING_ONBOARDING, poll["id"], body)

    updated = response.json()["poll"]
    assert response.status_code == 201
    assert updated["options"][1] == {
        "text": "Tue",
        "count": 1,
        "votes": [{"id": "p-17", "name": "Ana Souza"}],
    }
    assert updated["options"][0]["count"] == 0
    assert updated["voted"] == ["p-17"]


def test_vote_name_defaults_to_voter_id(sandbox_url):
    poll = create_poll(sandbox_url, seed.MEETING_ONBOARDING)

    response = vote(
        sandbox_url, seed.MEETING_ONBOARDING, poll["id"], {"option": 0, "voter_id": "p-2"}
    )

    assert response.json()["poll"]["options"][0]["votes"] == [{"id": "p-2", "name": "p-2"}]


def test_anonymous_poll_counts_without_names(sandbox_url):
    poll = create_poll(sandbox_url, seed.MEETING_ONBOARDING, anonymous=True)

    response = vote(
        sandbox_url, seed.MEETING_ONBOARDING, poll["id"], {"option": 2, "voter_id": "p-3"}
    )

    option = response.json()["poll"]["options"][2]
    assert option["count"] == 1
    assert option["votes"] == []
    assert response.json()["poll"]["voted"] == ["p-3"]


def test_second_vote_by_same_voter_conflicts(sandbox_url):
    poll = create_poll(sandbox_url, seed.MEETING_ONBOARDING)
    vote(sandbox_url, seed.MEETING_ONBOARDING, poll["id"], {"option": 0, "voter_id": "p-4"})

    response = vote(
        sandbox_url, seed.MEETING_ONBOARDING, poll["id"], {"option": 1, "voter_id": "p-4"}
    )

    listed = overview(sandbox_url)[seed.MEETING_ONBOARDING]["polls"][0]
    assert response.status_code == 409
    assert "already voted" in response.json()["error"]
    assert [option["count"] for option in listed["options"]] == [1, 0, 0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"option": 3, "voter_id": "p-5"}, "option"),
        ({"option": -1, "voter_id": "p-5"}, "option"),
        ({"option": "1", "voter_id": "p-5"}, "option"),
        ({"option": True, "voter_id": "p-5"}, "option"),
        ({"voter_id": "p-5"}, "option"),
        ({"option": 0}, "voter_id"),
        ({"option": 0, "voter_id": ""}, "voter_id"),
        ({"option": 0, "voter_id": "p-5", "voter_name": 9}, "voter_name"),
    ],
)
def test_vote_rejects_bad_body(sandbox_url, body, field):
    poll = create_poll(sandbox_url, seed.MEETING_ONBOARDING)

    response = vote(sandbox_url, seed.MEETING_ONBOARDING, poll["id"], body)

    assert response.status_code == 400
    assert field in response.json()["error"]


def test_vote_on_unknown_poll_is_not_found(sandbox_url):
    response = vote(
        sandbox_url, seed.MEETING_ONBOARDING, UNKNOWN_ID, {"option": 0, "voter_id": "a"}
    )

    assert response.status_code == 404
    assert UNKNOWN_ID in response.json()["error"]


def test_vote_in_wrong_meeting_is_not_found(sandbox_url):
    poll = create_poll(sandbox_url, seed.MEETING_ONBOARDING)

    response = vote(sandbox_url, seed.MEETING_TOWN_HALL, poll["id"], {"option": 0, "voter_id": "a"})

    assert response.status_code == 404


def test_overview_lists_minted_participants(sandbox_url, kit_url):
    body = {"custom_participant_id": "mod-9", "preset_name": "observer", "name": "Observer"}
    url = f"{kit_url}/meetings/{seed.MEETING_TOWN_HALL}/participants"
    created = requests.post(url, json=body, headers=AUTH, timeout=5).json()["data"]

    participants = overview(sandbox_url)[seed.MEETING_TOWN_HALL]["participants"]
    assert participants == [
        {
            "id": created["id"],
            "custom_participant_id": "mod-9",
            "preset_name": "observer",
            "name": "Observer",
            "connected": False,
            "leaves": 0,
        }
    ]


def test_reset_restores_the_seed(sandbox_url, kit_url):
    create_poll(sandbox_url, seed.MEETING_ONBOARDING)
    control(sandbox_url, "DELETE", f"/meetings/{seed.MEETING_TOWN_HALL}/session")
    control(sandbox_url, "POST", f"/meetings/{seed.MEETING_NON_ASCII}/session")
    control(sandbox_url, "POST", "/faults", {"path": "/presets", "status": 500})
    requests.get(f"{kit_url}/meetings", headers=AUTH, timeout=5)

    response = control(sandbox_url, "POST", "/reset")

    meetings = overview(sandbox_url)
    assert response.status_code == 200
    assert meetings[seed.MEETING_TOWN_HALL]["session"]["id"] == TOWN_HALL_SESSION
    assert meetings[seed.MEETING_NON_ASCII]["session"] is None
    assert all(meeting["polls"] == [] for meeting in meetings.values())
    assert control(sandbox_url, "GET", "/faults").json() == {"faults": []}
    assert control(sandbox_url, "GET", "/requests").json() == {"requests": []}


def test_reset_restores_the_rate_limit_counter(sandbox_url, kit_url):
    requests.get(f"{kit_url}/presets", headers=AUTH, timeout=5)
    control(sandbox_url, "POST", "/reset")

    response = requests.get(f"{kit_url}/presets", headers=AUTH, timeout=5)

    assert response.headers["Ratelimit"].startswith('"default";r=1199;')


def test_unknown_control_path_is_not_found(sandbox_url):
    response = control(sandbox_url, "GET", "/nothing-here")

    assert response.status_code == 404
    assert "/sandbox/nothing-here" in response.json()["error"]


def test_wrong_control_method_is_not_allowed(sandbox_url):
    response = control(sandbox_url, "PUT", "/faults")

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST, DELETE"


def test_path_outside_both_areas_is_not_found(sandbox_url):
    response = requests.get(f"{sandbox_url}/", timeout=5)

    assert response.status_code == 404
    assert "/client/v4/" in response.json()["error"]
