"""HTTP-level behaviour: body limits, malformed bodies and concurrent requests."""

import http.client
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests

from sandbox import seed

AUTH = {"Authorization": f"Bearer {seed.API_TOKEN}"}
ONE_MIB = 1024 * 1024


def raw_post(sandbox_url: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST with exactly the given headers, which requests would otherwise correct."""
    parts = urlsplit(sandbox_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        connection.putrequest("POST", path)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8")
    finally:
        connection.close()


def create_poll(sandbox_url: str, meeting_id: str) -> dict:
    url = f"{sandbox_url}/sandbox/meetings/{meeting_id}/polls"
    body = {"question": "Lunch?", "options": ["Pizza", "Salad"]}
    return requests.post(url, json=body, timeout=5).json()["poll"]


def test_body_over_one_mib_is_too_large(sandbox_url):
    url = f"{sandbox_url}/sandbox/meetings/{seed.MEETING_ONBOARDING}/polls"

    response = requests.post(url, data=b"x" * (ONE_MIB + 1), timeout=5)

    assert response.status_code == 413
    assert "1048576" in response.json()["error"]


def test_api_body_over_one_mib_is_too_large(kit_url):
    url = f"{kit_url}/meetings/{seed.MEETING_ONBOARDING}/active-session/poll"

    response = requests.post(url, data=b"x" * (ONE_MIB + 1), headers=AUTH, timeout=5)

    assert response.status_code == 413
    assert response.json()["success"] is False
    assert response.json()["error"]["code"] == 413


def test_body_of_exactly_one_mib_is_read(sandbox_url):
    padding = " " * (ONE_MIB - 60)
    body = f'{{"question": "Q?", "options": ["A", "B"]{padding}}}'.encode()
    url = f"{sandbox_url}/sandbox/meetings/{seed.MEETING_ONBOARDING}/polls"

    response = requests.post(url, data=body, timeout=5)

    assert len(body) <= ONE_MIB
    assert response.status_code == 201


def test_invalid_json_is_a_bad_request(sandbox_url):
    url = f"{sandbox_url}/sandbox/faults"

    response = requests.post(url, data=b"{'path': '/x'}", timeout=5)

    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]


def test_non_utf8_body_is_a_bad_request(sandbox_url):
    url = f"{sandbox_url}/sandbox/faults"

    response = requests.post(url, data='{"path": "é"}'.encode("latin-1"), timeout=5)

    assert response.status_code == 400
    assert "UTF-8" in response.json()["error"]


def test_empty_body_is_a_bad_request(sandbox_url):
    response = requests.post(f"{sandbox_url}/sandbox/faults", timeout=5)

    assert response.status_code == 400
    assert "empty" in response.json()["error"]


def test_invalid_content_length_is_a_bad_request(sandbox_url):
    status, text = raw_post(sandbox_url, "/sandbox/faults", b"{}", {"Content-Length": "two"})

    assert status == 400
    assert "Content-Length" in text


def test_chunked_body_needs_a_length(sandbox_url):
    headers = {"Transfer-Encoding": "chunked"}

    status, text = raw_post(sandbox_url, "/sandbox/faults", b"2\r\n{}\r\n0\r\n\r\n", headers)

    assert status == 411
    assert "Content-Length" in text


def test_api_json_keeps_non_ascii_text(kit_url):
    url = f"{kit_url}/meetings/{seed.MEETING_NON_ASCII}"

    response = requests.get(url, headers=AUTH, timeout=5)

    assert seed.NON_ASCII_TITLE.encode("utf-8") in response.content


def test_concurrent_votes_are_all_counted(sandbox_url):
    poll = create_poll(sandbox_url, seed.MEETING_TOWN_HALL)
    url = f"{sandbox_url}/sandbox/meetings/{seed.MEETING_TOWN_HALL}/polls/{poll['id']}/votes"

    def cast(index: int) -> int:
        body = {"option": index % 2, "voter_id": f"voter-{index}", "voter_name": f"Voter {index}"}
        return requests.post(url, json=body, timeout=10).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(cast, range(50)))

    meetings = requests.get(f"{sandbox_url}/sandbox/meetings", timeout=5).json()["meetings"]
    counted = next(m for m in meetings if m["id"] == seed.MEETING_TOWN_HALL)["polls"][0]
    assert statuses == [201] * 50
    assert sum(option["count"] for option in counted["options"]) == 50
    assert len(set(counted["voted"])) == 50
    assert [option["count"] for option in counted["options"]] == [25, 25]


def test_concurrent_votes_by_one_voter_count_once(sandbox_url):
    poll = create_poll(sandbox_url, seed.MEETING_TOWN_HALL)
    url = f"{sandbox_url}/sandbox/meetings/{seed.MEETING_TOWN_HALL}/polls/{poll['id']}/votes"

    def cast(_: int) -> int:
        return requests.post(url, json={"option": 0, "voter_id": "same"}, timeout=10).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(cast, range(20)))

    assert statuses.count(201) == 1
    assert statuses.count(409) == 19


def test_concurrent_api_polls_all_land(sandbox_url, kit_url):
    url = f"{kit_url}/meetings/{seed.MEETING_PRODUCT_UPDATE}/active-session/poll"

    def create(index: int) -> int:
        body = {"question": f"Question {index}", "options": ["A", "B"]}
        return requests.post(url, json=body, headers=AUTH, timeout=10).status_code

    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(create, range(30)))

    meetings = requests.get(f"{sandbox_url}/sandbox/meetings", timeout=5).json()["meetings"]
    polls = next(m for m in meetings if m["id"] == seed.MEETING_PRODUCT_UPDATE)["polls"]
    logged = requests.get(f"{sandbox_url}/sandbox/requests", timeout=5).json()["requests"]
    assert statuses == [201] * 30
    assert len({poll["id"] for poll in polls}) == 30
    assert len(logged) == 30


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_control_responses_are_json(sandbox_url, method):
    response = requests.request(method, f"{sandbox_url}/sandbox/requests", timeout=5)

    assert response.headers["Content-Type"] == "application/json"
