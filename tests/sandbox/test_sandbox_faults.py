"""Injected faults on the API paths, and the request log that records API calls."""

import time

import pytest
import requests

from sandbox import seed

AUTH = {"Authorization": f"Bearer {seed.API_TOKEN}"}


def add_fault(sandbox_url: str, body: object) -> requests.Response:
    return requests.post(f"{sandbox_url}/sandbox/faults", json=body, timeout=5)


def logged_requests(sandbox_url: str) -> list[dict]:
    return requests.get(f"{sandbox_url}/sandbox/requests", timeout=5).json()["requests"]


def get_presets(kit_url: str, **kwargs) -> requests.Response:
    return requests.get(f"{kit_url}/presets", headers=AUTH, timeout=5, **kwargs)


def test_fault_replaces_status_and_json_body(sandbox_url, kit_url):
    body = {"success": False, "errors": [{"code": 10013, "message": "Service unavailable"}]}
    add_fault(sandbox_url, {"path": "/presets$", "status": 503, "body": body})

    response = get_presets(kit_url)

    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == body


def test_fault_sends_a_string_body_raw(sandbox_url, kit_url):
    page = "<html><body>502 Bad Gateway</body></html>"
    add_fault(sandbox_url, {"path": "/presets", "status": 502, "body": page})

    response = get_presets(kit_url)

    assert response.status_code == 502
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.text == page


def test_fault_string_body_can_be_invalid_json(sandbox_url, kit_url):
    add_fault(
        sandbox_url,
        {
            "path": "/presets",
            "body": '{"success": tru',
            "headers": {"Content-Type": "application/json"},
        },
    )

    response = get_presets(kit_url)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    with pytest.raises(requests.JSONDecodeError):
        response.json()


def test_fault_with_status_only_sends_empty_body(sandbox_url, kit_url):
    add_fault(sandbox_url, {"path": "/presets", "status": 500})

    response = get_presets(kit_url)

    assert response.status_code == 500
    assert response.content == b""


def test_fault_adds_headers(sandbox_url, kit_url):
    add_fault(
        sandbox_url,
        {
            "path": "/presets",
            "status": 429,
            "body": {"success": False},
            "headers": {"Retry-After": "300"},
        },
    )

    response = get_presets(kit_url)

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "300"


def test_fault_headers_alone_keep_the_normal_response(sandbox_url, kit_url):
    add_fault(sandbox_url, {"path": "/presets", "headers": {"X-Sandbox-Test": "yes"}})

    response = get_presets(kit_url)

    assert response.status_code == 200
    assert response.headers["X-Sandbox-Test"] == "yes"
    assert response.json()["paging"]["total_count"] == len(seed.PRESETS)


def test_fault_delay_without_status_serves_normally(sandbox_url, kit_url):
    add_fault(sandbox_url, {"path": "/presets", "delay_ms": 300})

    started = time.monotonic()
    response = get_presets(kit_url)
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert response.json()["success"] is True
    assert elapsed >= 0.3


def test_fault_delay_trips_a_client_read_timeout(sandbox_url, kit_url):
    add_fault(sandbox_url, {"path": "/presets", "delay_ms": 1500, "times": 1})

    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(f"{kit_url}/presets", headers=AUTH, timeout=(2, 0.3))


def test_fault_times_limits_how_often_it_applies(sandbox_url, kit_url):
    fault = add_fault(sandbox_url, {"path": "/presets", "status": 500, "times": 2}).json()["fault"]

    statuses = [get_presets(kit_url).status_code for _ in range(3)]

    listed = requests.get(f"{sandbox_url}/sandbox/faults", timeout=5).json()["faults"]
    assert statuses == [500, 500, 200]
    assert listed[0]["id"] == fault["id"]
    assert listed[0]["remaining"] == 0
    assert listed[0]["matched"] == 2


def test_fault_without_times_applies_until_cleared(sandbox_url, kit_url):
    add_fault(sandbox_url, {"path": "/presets", "status": 500})

    before = [get_presets(kit_url).status_code for _ in range(3)]
    cleared = requests.delete(f"{sandbox_url}/sandbox/faults", timeout=5)
    after = get_presets(kit_url).status_code

    assert before == [500, 500, 500]
    assert cleared.status_code == 200
    assert after == 200


def test_fault_cut_breaks_the_body(sandbox_url, kit_url):
    add_fault(sandbox_url, {"path": "/presets", "cut": True})

    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get_presets(kit_url)


def test_fault_cut_still_runs_the_request(sandbox_url, kit_url):
    add_fault(sandbox_url, {"method": "POST", "path": "/active-session/poll$", "cut": True})
    url = f"{kit_url}/meetings/{seed.MEETING_ONBOARDING}/active-session/poll"

    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.post(url, json={"question": "Q?", "options": ["A", "B"]}, headers=AUTH, timeout=5)

    meetings = requests.get(f"{sandbox_url}/sandbox/meetings", timeout=5).json()["meetings"]
    onboarding = next(m for m in meetings if m["id"] == seed.MEETING_ONBOARDING)
    assert [poll["question"] for poll in onboarding["polls"]] == ["Q?"]


def test_fault_cut_with_status_and_body(sandbox_url, kit_url):
    add_fault(
        sandbox_url,
        {"path": "/presets", "status": 200, "body": {"success": True, "data": []}, "cut": True},
    )

    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get_presets(kit_url)


def test_fault_method_filter_spares_other_methods(sandbox_url, kit_url):
    add_fault(sandbox_url, {"method": "post", "path": "/meetings/", "status": 500})
    url = f"{kit_url}/meetings/{seed.MEETING_ONBOARDING}/participants"
    body = {"custom_participant_id": "m-1", "preset_name": "observer"}

    fetched = requests.get(f"{kit_url}/meetings/{seed.MEETING_ONBOARDING}", headers=AUTH, timeout=5)
    posted = requests.post(url, json=body, headers=AUTH, timeout=5)

    assert fetched.status_code == 200
    assert posted.status_code == 500


def test_fault_path_is_matched_after_the_api_prefix(sandbox_url):
    add_fault(sandbox_url, {"path": "^/user/tokens/verify$", "status": 500})
    verify_url = f"{sandbox_url}/client/v4/user/tokens/verify"
    account_url = f"{sandbox_url}/client/v4/accounts/{seed.ACCOUNT_ID}/tokens/verify"

    user = requests.get(verify_url, headers=AUTH, timeout=5)
    account = requests.get(account_url, headers=AUTH, timeout=5)

    assert user.status_code == 500
    assert account.status_code == 200


def test_fault_applies_before_authentication(sandbox_url, kit_url):
    add_fault(sandbox_url, {"path": "/presets", "status": 502})

    response = requests.get(f"{kit_url}/presets", timeout=5)

    assert response.status_code == 502


def test_fault_does_not_touch_control_paths(sandbox_url):
    add_fault(sandbox_url, {"path": ".", "status": 500})

    response = requests.get(f"{sandbox_url}/sandbox/healthz", timeout=5)

    assert response.status_code == 200


def test_oldest_matching_fault_wins(sandbox_url, kit_url):
    add_fault(sandbox_url, {"path": "/presets", "status": 501, "times": 1})
    add_fault(sandbox_url, {"path": "/presets", "status": 502, "times": 1})

    statuses = [get_presets(kit_url).status_code for _ in range(3)]

    assert statuses == [501, 502, 200]


def test_faults_list_shows_every_field(sandbox_url):
    created = add_fault(sandbox_url, {"path": "/meetings$", "status": 503, "times": 1})

    listed = requests.get(f"{sandbox_url}/sandbox/faults", timeout=5).json()["faults"]

    assert created.status_code == 201
    assert listed == [
        {
            "id": created.json()["fault"]["id"],
            "method": None,
            "path": "/meetings$",
            "status": 503,
            "body": None,
            "headers": {},
            "delay_ms": 0,
            "times": 1,
            "cut": False,
            "remaining": 1,
            "matched": 0,
        }
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": 500}, "path"),
        ({"path": "(", "status": 500}, "regular expression"),
        ({"path": "/x", "status": 99}, "status"),
        ({"path": "/x", "status": 600}, "status"),
        ({"path": "/x", "status": "500"}, "status"),
        ({"path": "/x", "method": "FETCH", "status": 500}, "method"),
        ({"path": "/x", "status": 500, "times": 0}, "times"),
        ({"path": "/x", "delay_ms": -5}, "delay_ms"),
        ({"path": "/x", "delay_ms": 600_000}, "delay_ms"),
        ({"path": "/x", "cut": "yes"}, "cut"),
        ({"path": "/x", "headers": ["Retry-After"]}, "headers"),
        ({"path": "/x", "headers": {"Bad Name": "1"}}, "Bad Name"),
        ({"path": "/x", "headers": {"X-Test": "a\r\nInjected: 1"}}, "X-Test"),
        ({"path": "/x", "headers": {"Content-Length": "5"}}, "Content-Length"),
        ({"path": "/x", "headers": {"X-Test": 5}}, "X-Test"),
        ({"path": "/x"}, "no effect"),
    ],
)
def test_fault_rejects_bad_definition(sandbox_url, body, field):
    response = add_fault(sandbox_url, body)

    assert response.status_code == 400
    assert field in response.json()["error"]


def test_request_log_records_api_calls_oldest_first(sandbox_url, kit_url):
    requests.get(f"{kit_url}/meetings", params={"search": "town"}, headers=AUTH, timeout=5)
    requests.get(f"{sandbox_url}/sandbox/meetings", timeout=5)
    requests.get(f"{kit_url}/meetings/unknown", headers=AUTH, timeout=5)

    logged = logged_requests(sandbox_url)

    kit_path = kit_url.removeprefix(sandbox_url)
    assert [(entry["method"], entry["path"]) for entry in logged] == [
        ("GET", f"{kit_path}/meetings"),
        ("GET", f"{kit_path}/meetings/unknown"),
    ]
    assert logged[0]["query"] == "search=town"
    assert [entry["status"] for entry in logged] == [200, 404]
    assert logged[0]["time"].endswith("Z")
    assert logged[0]["duration_ms"] >= 0
    assert logged[0]["fault"] is None


def test_request_log_records_faulted_requests(sandbox_url, kit_url):
    fault = add_fault(sandbox_url, {"path": "/presets", "status": 503}).json()["fault"]
    get_presets(kit_url)

    logged = logged_requests(sandbox_url)

    assert [entry["status"] for entry in logged] == [503]
    assert logged[0]["fault"] == fault["id"]


def test_request_log_records_cut_requests(sandbox_url, kit_url):
    add_fault(sandbox_url, {"path": "/presets", "cut": True})
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get_presets(kit_url)

    logged = logged_requests(sandbox_url)

    assert [entry["status"] for entry in logged] == [200]


def test_request_log_clears(sandbox_url, kit_url):
    get_presets(kit_url)

    response = requests.delete(f"{sandbox_url}/sandbox/requests", timeout=5)

    assert response.status_code == 200
    assert logged_requests(sandbox_url) == []
