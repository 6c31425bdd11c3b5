"""Endpoints behind the stand-in browser SDK: participant lookup, poll long-polls, sdk.js."""

import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from sandbox import seed

AUTH = {"Authorization": f"Bearer {seed.API_TOKEN}"}
LIVE_MEETING = seed.MEETING_ONBOARDING
# Long enough that a response well before it proves a wake-up, short enough for fast tests.
WAIT_SECONDS = 3
# A response this soon after a change counts as "at once".
PROMPT_SECONDS = 0.5


def add_participant(kit_url: str, meeting_id: str = LIVE_MEETING, **fields) -> dict:
    body = {"custom_participant_id": "moderator-7", "preset_name": "observer", **fields}
    url = f"{kit_url}/meetings/{meeting_id}/participants"
    response = requests.post(url, json=body, headers=AUTH, timeout=5)
    assert response.status_code == 201
    return response.json()["data"]


def sdk_get(sandbox_url: str, path: str, **params) -> requests.Response:
    return requests.get(f"{sandbox_url}/sandbox/sdk/{path}", params=params, timeout=30)


def long_poll(sandbox_url: str, token: str, since: int, wait: float) -> requests.Response:
    return sdk_get(sandbox_url, "polls", token=token, since=since, wait=wait)


def current_version(sandbox_url: str, token: str) -> int:
    return long_poll(sandbox_url, token, 0, 0).json()["version"]


def control(sandbox_url: str, method: str, path: str, body: object = None) -> requests.Response:
    return requests.request(method, f"{sandbox_url}/sandbox{path}", json=body, timeout=5)


def create_poll(sandbox_url: str, meeting_id: str = LIVE_MEETING, **fields) -> dict:
    body = {"question": "Best day?", "options": ["Mon", "Tue"], **fields}
    response = control(sandbox_url, "POST", f"/meetings/{meeting_id}/polls", body)
    assert response.status_code == 201
    return response.json()["poll"]


def vote(sandbox_url: str, poll_id: str, option: int, voter_id: str, **fields) -> None:
    body = {"option": option, "voter_id": voter_id, **fields}
    path = f"/meetings/{LIVE_MEETING}/polls/{poll_id}/votes"
    assert control(sandbox_url, "POST", path, body).status_code == 201


def after_change(change, wait_request):
    """Start wait_request, make the change once it is waiting, and time the response.

    Returns the response and the seconds between the change and the response.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(wait_request)
        time.sleep(0.2)
        changed_at = time.monotonic()
        change()
        response = pending.result(timeout=WAIT_SECONDS + 5)
        return response, time.monotonic() - changed_at


def test_participant_describes_the_token_owner(sandbox_url, kit_url):
    participant = add_participant(kit_url, name="Dashboard observer")

    response = sdk_get(sandbox_url, "participant", token=participant["token"])

    assert response.status_code == 200
    assert response.json() == {
        "participant": {
            "id": participant["id"],
            "name": "Dashboard observer",
            "custom_participant_id": "moderator-7",
            "preset_name": "observer",
        },
        "meeting_id": LIVE_MEETING,
    }


@pytest.mark.parametrize("path", ["participant", "polls"])
def test_unknown_token_is_unauthorized(sandbox_url, path):
    response = sdk_get(sandbox_url, path, token="not-a-participant-token")

    assert response.status_code == 401
    assert "not current" in response.json()["error"]


@pytest.mark.parametrize("path", ["participant", "polls"])
def test_missing_token_is_unauthorized(sandbox_url, path):
    response = sdk_get(sandbox_url, path)

    assert response.status_code == 401
    assert "token is missing" in response.json()["error"]


def test_refreshed_token_replaces_the_old_one(sandbox_url, kit_url):
    participant = add_participant(kit_url)
    url = f"{kit_url}/meetings/{LIVE_MEETING}/participants/{participant['id']}/token"
    new_token = requests.post(url, headers=AUTH, timeout=5).json()["data"]["token"]

    old = sdk_get(sandbox_url, "polls", token=participant["token"], wait=0)
    new = sdk_get(sandbox_url, "polls", token=new_token, wait=0)

    assert old.status_code == 401
    assert new.status_code == 200


def test_refresh_answers_a_waiting_old_token_with_401(sandbox_url, kit_url):
    participant = add_participant(kit_url)
    version = current_version(sandbox_url, participant["token"])
    url = f"{kit_url}/meetings/{LIVE_MEETING}/participants/{participant['id']}/token"

    response, elapsed = after_change(
        lambda: requests.post(url, headers=AUTH, timeout=5),
        lambda: long_poll(sandbox_url, participant["token"], version, WAIT_SECONDS),
    )

    assert response.status_code == 401
    assert elapsed < PROMPT_SECONDS


def test_reset_answers_a_waiting_token_with_401(sandbox_url, kit_url):
    participant = add_participant(kit_url)
    version = current_version(sandbox_url, participant["token"])

    response, elapsed = after_change(
        lambda: control(sandbox_url, "POST", "/reset"),
        lambda: long_poll(sandbox_url, participant["token"], version, WAIT_SECONDS),
    )

    assert response.status_code == 401
    assert elapsed < PROMPT_SECONDS


def test_polls_lists_the_live_session_in_sdk_shape(sandbox_url, kit_url):
    participant = add_participant(kit_url)
    poll = create_poll(sandbox_url, created_by="Priya")
    vote(sandbox_url, poll["id"], 1, "p-17", voter_name="Ana Souza")

    response = long_poll(sandbox_url, participant["token"], 0, 0)

    body = response.json()
    assert response.status_code == 200
    assert body["live"] is True
    assert body["session_id"] == "5d4c3b2a-1908-4e7f-a6b5-c4d3e2f10003"
    assert isinstance(body["version"], int)
    assert body["polls"] == [
        {
            "id": poll["id"],
            "question": "Best day?",
            "options": [
                {"text": "Mon", "count": 0, "votes": []},
                {"text": "Tue", "count": 1, "votes": [{"id": "p-17", "name": "Ana Souza"}]},
            ],
            "anonymous": False,
            "hideVotes": False,
            "createdBy": "Priya",
            "createdByUserId": body["polls"][0]["createdByUserId"],
            "voted": ["p-17"],
        }
    ]
    assert body["polls"][0]["createdByUserId"]


def test_polls_are_listed_oldest_first(sandbox_url, kit_url):
    participant = add_participant(kit_url)
    first = create_poll(sandbox_url, question="First?")
    second = create_poll(sandbox_url, question="Second?")

    polls = long_poll(sandbox_url, participant["token"], 0, 0).json()["polls"]

    assert [poll["id"] for poll in polls] == [first["id"], second["id"]]


def test_long_poll_wakes_at_once_on_a_vote(sandbox_url, kit_url):
    participant = add_participant(kit_url)
    poll = create_poll(sandbox_url)
    version = current_version(sandbox_url, participant["token"])

    response, elapsed = after_change(
        lambda: vote(sandbox_url, poll["id"], 0, "p-1"),
        lambda: long_poll(sandbox_url, participant["token"], version, WAIT_SECONDS),
    )

    body = response.json()
    assert elapsed < PROMPT_SECONDS
    assert body["version"] > version
    assert body["polls"][0]["options"][0]["count"] == 1
    assert body["polls"][0]["voted"] == ["p-1"]


def test_participant_poll_wakes_long_poll(sandbox_url, kit_url):
    participant = add_participant(kit_url)
    version = current_version(sandbox_url, participant["token"])

    response, elapsed = after_change(
        lambda: create_poll(sandbox_url, question="Coffee or tea?"),
        lambda: long_poll(sandbox_url, participant["token"], version, WAIT_SECONDS),
    )

    assert elapsed < PROMPT_SECONDS
    assert [poll["question"] for poll in response.json()["polls"]] == ["Coffee or tea?"]


def test_api_poll_wakes_long_poll(sandbox_url, kit_url):
    participant = add_participant(kit_url)
    version = current_version(sandbox_url, participant["token"])
    url = f"{kit_url}/meetings/{LIVE_MEETING}/active-session/poll"
    body = {"question": "Launched by the API?", "options": ["Yes", "No"]}

    response, elapsed = after_change(
        lambda: requests.post(url, json=body, headers=AUTH, timeout=5),
        lambda: long_poll(sandbox_url, participant["token"], version, WAIT_SECONDS),
    )

    poll = response.json()["polls"][0]
    assert elapsed < PROMPT_SECONDS
    assert poll["question"] == "Launched by the API?"
    assert poll["createdBy"] == "REST API"
    assert poll["createdByUserId"] == ""


def test_long_poll_times_out_with_the_same_version(sandbox_url, kit_url):
    participant = add_participant(kit_url)
    version = current_version(sandbox_url, participant["token"])

    started = time.monotonic()
    response = long_poll(sandbox_url, participant["token"], version, 0.3)
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert response.json()["version"] == version
    assert 0.3 <= elapsed < 0.3 + PROMPT_SECONDS


def test_long_poll_ignores_changes_in_other_meetings(sandbox_url, kit_url):
    participant = add_participant(kit_url)
    version = current_version(sandbox_url, participant["token"])

    create_poll(sandbox_url, meeting_id=seed.MEETING_TOWN_HALL)
    response = long_poll(sandbox_url, participant["token"], version, 0.3)

    assert response.json()["version"] == version
    assert response.json()["polls"] == []


def test_ended_session_is_not_live(sandbox_url, kit_url):
    participant = add_participant(kit_url)
    create_poll(sandbox_url)
    version = current_version(sandbox_url, participant["token"])

    response, elapsed = after_change(
        lambda: control(sandbox_url, "DELETE", f"/meetings/{LIVE_MEETING}/session"),
        lambda: long_poll(sandbox_url, participant["token"], version, WAIT_SECONDS),
    )

    assert elapsed < PROMPT_SECONDS
    assert response.json()["live"] is False
    assert response.json()["session_id"] is None
    assert response.json()["polls"] == []


def test_new_session_starts_without_the_old_polls(sandbox_url, kit_url):
    participant = add_participant(kit_url)
    create_poll(sandbox_url, question="Old?")
    control(sandbox_url, "DELETE", f"/meetings/{LIVE_MEETING}/session")
    session = control(sandbox_url, "POST", f"/meetings/{LIVE_MEETING}/session").json()["session"]

    body = long_poll(sandbox_url, participant["token"], 0, 0).json()

    assert body["live"] is True
    assert body["session_id"] == session["id"]
    assert body["polls"] == []


def test_meeting_without_session_is_not_live(sandbox_url, kit_url):
    participant = add_participant(kit_url, meeting_id=seed.MEETING_NON_ASCII)

    body = long_poll(sandbox_url, participant["token"], 0, 0).json()

    assert body["live"] is False
    assert body["polls"] == []


def test_anonymous_poll_names_no_voters(sandbox_url, kit_url):
    participant = add_participant(kit_url)
    poll = create_poll(sandbox_url, anonymous=True)
    vote(sandbox_url, poll["id"], 0, "p-1", voter_name="Ana Souza")
    vote(sandbox_url, poll["id"], 1, "p-2", voter_name="Bo Chen")

    listed = long_poll(sandbox_url, participant["token"], 0, 0).json()["polls"][0]

    assert listed["anonymous"] is True
    assert [option["count"] for option in listed["options"]] == [1, 1]
    assert [option["votes"] for option in listed["options"]] == [[], []]
    assert "Ana Souza" not in str(listed)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "-1"}, "since"),
        ({"since": "two"}, "since"),
        ({"since": "1.5"}, "since"),
        ({"wait": "26"}, "wait"),
        ({"wait": "-1"}, "wait"),
        ({"wait": "soon"}, "wait"),
    ],
)
def test_polls_rejects_bad_since_or_wait(sandbox_url, kit_url, params, field):
    participant = add_participant(kit_url)

    response = sdk_get(sandbox_url, "polls", token=participant["token"], **params)

    assert response.status_code == 400
    assert response.json()["error"].startswith(field)


def test_wait_accepts_decimal_seconds(sandbox_url, kit_url):
    participant = add_participant(kit_url)
    version = current_version(sandbox_url, participant["token"])

    response = long_poll(sandbox_url, participant["token"], version, 0.05)

    assert response.status_code == 200


@pytest.mark.parametrize(
    "path", ["/sandbox/sdk.js", "/sandbox/sdk/participant", "/sandbox/sdk/polls", "/sandbox/sdk/x"]
)
def test_sdk_responses_allow_any_origin(sandbox_url, path):
    response = requests.get(sandbox_url + path, headers={"Origin": "http://127.0.0.1:1"}, timeout=5)

    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_other_control_responses_do_not_allow_other_origins(sandbox_url):
    response = requests.get(f"{sandbox_url}/sandbox/meetings", timeout=5)

    assert "Access-Control-Allow-Origin" not in response.headers


def test_sdk_script_is_served_as_javascript(sandbox_url):
    response = requests.get(f"{sandbox_url}/sandbox/sdk.js", timeout=5)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "window.RealtimeKitClient" in response.text


def test_overview_shows_a_waiting_observer_as_connected(sandbox_url, kit_url):
    waiting = add_participant(kit_url, custom_participant_id="waiting")
    idle = add_participant(kit_url, custom_participant_id="idle")
    version = current_version(sandbox_url, waiting["token"])

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(long_poll, sandbox_url, waiting["token"], version, 0.5)
        time.sleep(0.2)
        meetings = control(sandbox_url, "GET", "/meetings").json()["meetings"]
        pending.result(timeout=5)

    listed = next(m for m in meetings if m["id"] == LIVE_MEETING)["participants"]
    connected = {participant["id"]: participant["connected"] for participant in listed}
    assert connected == {waiting["id"]: True, idle["id"]: False}


def test_sandbox_stops_promptly_with_a_waiting_long_poll(launch_sandbox):
    process, url, log_path = launch_sandbox()
    kit_url = url + f"/client/v4/accounts/{seed.ACCOUNT_ID}/realtime/kit/{seed.APP_ID}"
    participant = add_participant(kit_url)
    version = current_version(url, participant["token"])

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(long_poll, url, participant["token"], version, 20)
        time.sleep(0.2)
        stopped_at = time.monotonic()
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=10)
        stop_seconds = time.monotonic() - stopped_at
        # The response races the process exit, so the client gets it or a closed connection.
        outcome = pending.exception(timeout=5) or pending.result().json()["version"]

    assert returncode == 0
    assert stop_seconds < 2
    assert outcome == version or isinstance(outcome, requests.ConnectionError)
    assert "Traceback" not in log_path.read_text()


def test_leave_ends_the_wait_and_the_connection(sandbox_url, kit_url):
    participant = add_participant(kit_url)
    version = current_version(sandbox_url, participant["token"])

    with ThreadPoolExecutor(max_workers=1) as pool:
        started = time.monotonic()
        pending = pool.submit(long_poll, sandbox_url, participant["token"], version, 10)
        time.sleep(0.2)
        left = requests.post(
            f"{sandbox_url}/sandbox/sdk/leave", params={"token": participant["token"]}, timeout=5
        )
        answer = pending.result(timeout=5)
    waited = time.monotonic() - started

    meetings = control(sandbox_url, "GET", "/meetings").json()["meetings"]
    listed = next(m for m in meetings if m["id"] == LIVE_MEETING)["participants"]
    assert left.json() == {"status": "left"}
    assert left.headers["Access-Control-Allow-Origin"] == "*"
    assert answer.status_code == 200
    assert waited < 2
    assert listed[0]["connected"] is False
    assert listed[0]["leaves"] == 1


def test_leave_with_an_unknown_token_is_refused(sandbox_url):
    response = requests.post(f"{sandbox_url}/sandbox/sdk/leave", params={"token": "x"}, timeout=5)

    assert response.status_code == 401
