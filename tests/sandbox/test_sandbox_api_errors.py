"""Error responses of the Cloudflare API stand-in: gateway envelopes and RealtimeKit errors."""

import pytest
import requests

from sandbox import seed

AUTH = {"Authorization": f"Bearer {seed.API_TOKEN}"}
UNKNOWN_MEETING = "00000000-0000-4000-8000-000000000000"
AUTHENTICATION_ERROR = {
    "success": False,
    "errors": [{"code": 10000, "message": "Authentication error"}],
    "messages": [],
    "result": None,
}


def create_poll(kit_url: str, meeting_id: str, body: object) -> requests.Response:
    url = f"{kit_url}/meetings/{meeting_id}/active-session/poll"
    return requests.post(url, json=body, headers=AUTH, timeout=5)


def add_participant(kit_url: str, meeting_id: str, body: object) -> requests.Response:
    url = f"{kit_url}/meetings/{meeting_id}/participants"
    return requests.post(url, json=body, headers=AUTH, timeout=5)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic c2FuZGJveA=="}, {"Authorization": "Bearer "}],
    ids=["missing", "basic", "empty-bearer"],
)
def test_api_without_bearer_token_is_unauthorized(kit_url, headers):
    response = requests.get(f"{kit_url}/meetings", headers=headers, timeout=5)

    assert response.status_code == 401
    assert response.json() == AUTHENTICATION_ERROR


def test_api_with_wrong_token_is_forbidden(kit_url):
    headers = {"Authorization": "Bearer sandbox-token-wrong"}

    response = requests.get(f"{kit_url}/meetings", headers=headers, timeout=5)

    assert response.status_code == 403
    assert response.json() == AUTHENTICATION_ERROR


def test_api_accepts_lowercase_bearer_scheme(kit_url):
    headers = {"Authorization": f"bearer {seed.API_TOKEN}"}

    response = requests.get(f"{kit_url}/meetings", headers=headers, timeout=5)

    assert response.status_code == 200


def test_token_verify_rejects_wrong_token(sandbox_url):
    headers = {"Authorization": "Bearer sandbox-token-wrong"}

    response = requests.get(
        f"{sandbox_url}/client/v4/user/tokens/verify", headers=headers, timeout=5
    )

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == 10000


def test_token_verify_body_matches_cloudflare(sandbox_url):
    response = requests.get(f"{sandbox_url}/client/v4/user/tokens/verify", headers=AUTH, timeout=5)

    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "errors": [],
        "messages": [{"code": 10000, "message": "This API Token is valid and active"}],
        "result": {"id": seed.API_TOKEN_ID, "status": "active"},
    }


def test_unknown_account_is_forbidden(sandbox_url):
    url = f"{sandbox_url}/client/v4/accounts/{'0' * 32}/realtime/kit/{seed.APP_ID}/meetings"

    response = requests.get(url, headers=AUTH, timeout=5)

    assert response.status_code == 403
    assert response.json()["errors"] == [
        {"code": 9109, "message": "Unauthorized to access requested resource"}
    ]


def test_unknown_account_token_verify_is_forbidden(sandbox_url):
    url = f"{sandbox_url}/client/v4/accounts/{'0' * 32}/tokens/verify"

    response = requests.get(url, headers=AUTH, timeout=5)

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == 9109


def test_unknown_app_is_not_found(sandbox_url):
    url = f"{sandbox_url}/client/v4/accounts/{seed.ACCOUNT_ID}/realtime/kit/{'1' * 32}/meetings"

    response = requests.get(url, headers=AUTH, timeout=5)

    assert response.status_code == 404
    assert response.json() == {
        "success": False,
        "error": {"code": 404, "message": f"App {'1' * 32} not found"},
    }


def test_unknown_path_has_no_route_even_without_token(sandbox_url):
    response = requests.get(f"{sandbox_url}/client/v4/zones/abc/dns_records", timeout=5)

    assert response.status_code == 404
    assert response.json()["errors"] == [{"code": 7000, "message": "No route for that URI"}]
    assert response.json()["result"] is None


def test_wrong_method_is_not_allowed(kit_url):
    response = requests.delete(f"{kit_url}/meetings", headers=AUTH, timeout=5)

    assert response.status_code == 405
    assert response.json()["errors"][0]["code"] == 7001
    assert response.headers["Allow"] == "GET"


def test_unknown_meeting_is_not_found(kit_url):
    response = requests.get(f"{kit_url}/meetings/{UNKNOWN_MEETING}", headers=AUTH, timeout=5)

    assert response.status_code == 404
    assert response.json() == {
        "success": False,
        "error": {"code": 404, "message": f"Meeting {UNKNOWN_MEETING} not found"},
    }


def test_active_session_of_unknown_meeting_names_the_meeting(kit_url):
    url = f"{kit_url}/meetings/{UNKNOWN_MEETING}/active-session"

    response = requests.get(url, headers=AUTH, timeout=5)

    assert response.status_code == 404
    assert response.json()["error"]["message"] == f"Meeting {UNKNOWN_MEETING} not found"


def test_active_session_of_inactive_meeting_is_not_found(kit_url):
    url = f"{kit_url}/meetings/{seed.MEETING_OBSERVABILITY}/active-session"

    response = requests.get(url, headers=AUTH, timeout=5)

    expected = f"No active session found for meeting {seed.MEETING_OBSERVABILITY}"
    assert response.status_code == 404
    assert response.json()["error"]["message"] == expected


def test_four_seeded_meetings_are_live(kit_url):
    live = {}
    for meeting in seed.MEETINGS:
        url = f"{kit_url}/meetings/{meeting.id}/active-session"
        response = requests.get(url, headers=AUTH, timeout=5)
        if response.status_code == 200:
            live[meeting.id] = response.json()["data"]["live_participants"]

    assert live == {
        seed.MEETING_PRODUCT_UPDATE: 48,
        seed.MEETING_TOWN_HALL: 230,
        seed.MEETING_ONBOARDING: 12,
        seed.MEETING_OFFICE_HOURS: 1,
    }


def test_create_poll_returns_201_with_poll(kit_url):
    body = {"question": "Ready?", "options": ["Yes", "No"], "hide_votes": True}

    response = create_poll(kit_url, seed.MEETING_OFFICE_HOURS, body)

    poll = response.json()["data"]["poll"]
    assert response.status_code == 201
    assert poll["options"] == [
        {"text": "Yes", "count": 0, "votes": []},
        {"text": "No", "count": 0, "votes": []},
    ]
    assert poll["hide_votes"] is True
    assert poll["anonymous"] is False


def test_create_poll_without_live_session_is_not_found(kit_url):
    body = {"question": "Ready?", "options": ["Yes", "No"]}

    response = create_poll(kit_url, seed.MEETING_NON_ASCII, body)

    expected = f"No active session found for meeting {seed.MEETING_NON_ASCII}"
    assert response.status_code == 404
    assert response.json()["error"]["message"] == expected


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"options": ["A", "B"]}, "question"),
        ({"question": 7, "options": ["A", "B"]}, "question"),
        ({"question": "   ", "options": ["A", "B"]}, "question"),
        ({"question": "Q?"}, "options"),
        ({"question": "Q?", "options": "A, B"}, "options"),
        ({"question": "Q?", "options": ["A"]}, "options"),
        ({"question": "Q?", "options": ["A", 2]}, "options[1]"),
        ({"question": "Q?", "options": ["A", " "]}, "options[1]"),
        ({"question": "Q?", "options": ["A", "B"], "anonymous": "yes"}, "anonymous"),
        ({"question": "Q?", "options": ["A", "B"], "hide_votes": 1}, "hide_votes"),
        (["Q?", "A", "B"], "JSON object"),
    ],
)
def test_create_poll_rejects_malformed_body(kit_url, body, field):
    response = create_poll(kit_url, seed.MEETING_OFFICE_HOURS, body)

    assert response.status_code == 400
    assert response.json()["success"] is False
    assert field in response.json()["error"]["message"]


def test_create_poll_rejects_invalid_json(kit_url):
    url = f"{kit_url}/meetings/{seed.MEETING_OFFICE_HOURS}/active-session/poll"
    headers = {**AUTH, "Content-Type": "application/json"}

    response = requests.post(url, data=b'{"question": ', headers=headers, timeout=5)

    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]["message"]


def test_add_participant_returns_201(kit_url):
    body = {"custom_participant_id": "mod-1", "preset_name": "webinar_host", "picture": None}

    response = add_participant(kit_url, seed.MEETING_LAUNCH_REHEARSAL, body)

    data = response.json()["data"]
    assert response.status_code == 201
    assert data["name"] is None
    assert data["preset_name"] == "webinar_host"
    assert data["created_at"].endswith("Z")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"preset_name": "observer", "name": "Mod"}, "custom_participant_id"),
        ({"custom_participant_id": "mod-1", "name": "Mod"}, "preset_name"),
        ({"custom_participant_id": "mod-1", "preset_name": "guest"}, "preset_name"),
        ({"custom_participant_id": "mod-1", "preset_name": "observer", "name": 5}, "name"),
    ],
)
def test_add_participant_rejects_bad_body(kit_url, body, field):
    response = add_participant(kit_url, seed.MEETING_ONBOARDING, body)

    assert response.status_code == 400
    assert field in response.json()["error"]["message"]


def test_add_participant_to_unknown_meeting_is_not_found(kit_url):
    body = {"custom_participant_id": "mod-1", "preset_name": "observer"}

    response = add_participant(kit_url, UNKNOWN_MEETING, body)

    assert response.status_code == 404


def test_refresh_token_in_another_meeting_is_not_found(kit_url):
    body = {"custom_participant_id": "mod-1", "preset_name": "observer"}
    participant = add_participant(kit_url, seed.MEETING_ONBOARDING, body).json()["data"]
    url = f"{kit_url}/meetings/{seed.MEETING_TOWN_HALL}/participants/{participant['id']}/token"

    response = requests.post(url, headers=AUTH, timeout=5)

    assert response.status_code == 404
    assert participant["id"] in response.json()["error"]["message"]


def test_unknown_preset_is_not_found(kit_url):
    unknown = "00000000-0000-4000-8000-00000000abcd"

    response = requests.get(f"{kit_url}/presets/{unknown}", headers=AUTH, timeout=5)

    assert response.status_code == 404
    assert response.json() == {
        "success": False,
        "error": {"code": 404, "message": f"Preset {unknown} not found"},
    }


def test_preset_is_found_by_id_not_by_name(kit_url):
    response = requests.get(f"{kit_url}/presets/observer", headers=AUTH, timeout=5)

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("preset_id", "hidden", "polls"),
    [
        (seed.PRESET_WEBINAR_HOST, False, {"can_create": True, "can_view": True, "can_vote": True}),
        (seed.PRESET_OBSERVER, True, {"can_create": False, "can_view": True, "can_vote": False}),
        (seed.PRESET_ATTENDEE, False, {"can_create": False, "can_view": True, "can_vote": True}),
    ],
)
def test_preset_permissions_of_each_seeded_preset(kit_url, preset_id, hidden, polls):
    response = requests.get(f"{kit_url}/presets/{preset_id}", headers=AUTH, timeout=5)

    permissions = response.json()["data"]["permissions"]
    assert response.status_code == 200
    assert response.json()["success"] is True
    assert permissions["hidden_participant"] is hidden
    assert permissions["polls"] == polls


def test_preset_of_another_app_is_not_found(sandbox_url):
    url = f"{sandbox_url}/client/v4/accounts/{seed.ACCOUNT_ID}/realtime/kit/{'1' * 32}"

    response = requests.get(f"{url}/presets/{seed.PRESET_OBSERVER}", headers=AUTH, timeout=5)

    assert response.status_code == 404
    assert response.json()["error"]["message"] == f"App {'1' * 32} not found"


def test_api_responses_carry_rate_limit_headers(kit_url):
    first = requests.get(f"{kit_url}/presets", headers=AUTH, timeout=5)
    second = requests.get(f"{kit_url}/presets", headers=AUTH, timeout=5)

    assert first.headers["Ratelimit"] == '"default";r=1199;t=300'
    assert second.headers["Ratelimit"].startswith('"default";r=1198;t=')
    assert first.headers["Ratelimit-Policy"] == '"default";q=1200;w=300'


def test_api_rejects_the_request_over_the_rate_limit(kit_url):
    with requests.Session() as session:
        session.headers.update(AUTH)
        statuses = [session.get(f"{kit_url}/presets", timeout=5).status_code for _ in range(1200)]
        response = session.get(f"{kit_url}/presets", timeout=5)

    assert set(statuses) == {200}
    assert response.status_code == 429
    assert response.json()["errors"][0]["code"] == 10100
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Ratelimit"].startswith('"default";r=0;')
