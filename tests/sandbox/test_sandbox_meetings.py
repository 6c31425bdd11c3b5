"""GET meetings: paging, ordering, search and filters, over plain HTTP."""

import unicodedata

import pytest
import requests

from sandbox import seed

AUTH = {"Authorization": f"Bearer {seed.API_TOKEN}"}


def list_meetings(kit_url: str, **params) -> requests.Response:
    return requests.get(f"{kit_url}/meetings", params=params, headers=AUTH, timeout=5)


def meeting_ids(response: requests.Response) -> list[str]:
    return [meeting["id"] for meeting in response.json()["data"]]


def test_meetings_default_page_holds_all_thirteen(kit_url):
    response = list_meetings(kit_url)

    body = response.json()
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert body["success"] is True
    assert len(body["data"]) == 13
    assert body["paging"] == {"total_count": 13, "start_offset": 1, "end_offset": 13}


def test_meetings_are_newest_first(kit_url):
    response = list_meetings(kit_url)

    created = [meeting["created_at"] for meeting in response.json()["data"]]
    assert created == sorted(created, reverse=True)
    assert meeting_ids(response) == [meeting.id for meeting in seed.MEETINGS]


def test_meetings_first_page_has_ten(kit_url):
    response = list_meetings(kit_url, page_no=1, per_page=10)

    assert len(response.json()["data"]) == 10
    assert response.json()["paging"] == {"total_count": 13, "start_offset": 1, "end_offset": 10}


def test_meetings_second_page_has_the_remaining_three(kit_url):
    response = list_meetings(kit_url, page_no=2, per_page=10)

    assert meeting_ids(response) == [meeting.id for meeting in seed.MEETINGS[10:]]
    assert response.json()["paging"] == {"total_count": 13, "start_offset": 11, "end_offset": 13}


def test_meetings_page_past_the_end_is_empty(kit_url):
    response = list_meetings(kit_url, page_no=3, per_page=10)

    assert response.status_code == 200
    assert response.json()["data"] == []
    assert response.json()["paging"] == {"total_count": 13, "start_offset": 21, "end_offset": 20}


def test_meetings_carry_every_documented_field(kit_url):
    meeting = list_meetings(kit_url).json()["data"][0]

    assert set(meeting) >= {
        "id",
        "title",
        "status",
        "created_at",
        "updated_at",
        "record_on_start",
        "live_stream_on_start",
        "persist_chat",
        "summarize_on_end",
        "session_keep_alive_time_in_secs",
    }
    assert meeting["created_at"].endswith("Z")


def test_meetings_seed_has_eight_active_and_five_inactive(kit_url):
    statuses = [meeting["status"] for meeting in list_meetings(kit_url).json()["data"]]

    assert statuses.count("ACTIVE") == 8
    assert statuses.count("INACTIVE") == 5


def test_meetings_status_filter_counts_inactive(kit_url):
    response = list_meetings(kit_url, status="INACTIVE")

    assert response.json()["paging"]["total_count"] == 5
    assert {meeting["status"] for meeting in response.json()["data"]} == {"INACTIVE"}


def test_meetings_time_filter_is_inclusive(kit_url):
    response = list_meetings(
        kit_url, start_time="2026-11-19T10:00:00Z", end_time="2026-11-26T13:30:00.000Z"
    )

    assert meeting_ids(response) == [seed.MEETING_TOWN_HALL, seed.MEETING_ONBOARDING]


def test_meetings_time_filter_accepts_an_unencoded_plus(kit_url):
    url = f"{kit_url}/meetings?start_time=2026-11-26T13:30:00+00:00"

    response = requests.get(url, headers=AUTH, timeout=5)

    assert meeting_ids(response) == [seed.MEETING_PRODUCT_UPDATE, seed.MEETING_TOWN_HALL]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("TOWN HALL", seed.MEETING_TOWN_HALL),
        ("c0d1e2f30013", seed.MEETING_OBSERVABILITY),
        ("zürich", seed.MEETING_NON_ASCII),
        ("ZÜRICH", seed.MEETING_NON_ASCII),
        (unicodedata.normalize("NFD", "Zürich"), seed.MEETING_NON_ASCII),
        ("東京", seed.MEETING_NON_ASCII),
        ("🚀", seed.MEETING_NON_ASCII),
        ("ŁÓDŹ", seed.MEETING_NON_ASCII),
    ],
)
def test_meetings_search_matches_one_meeting(kit_url, search, expected):
    response = list_meetings(kit_url, search=search)

    assert meeting_ids(response) == [expected]
    assert response.json()["paging"]["total_count"] == 1


def test_meetings_search_matches_several_and_pages_them(kit_url):
    response = list_meetings(kit_url, search="in", per_page=2, page_no=2)

    body = response.json()
    assert body["paging"]["total_count"] > 2
    assert body["paging"]["start_offset"] == 3
    assert body["paging"]["end_offset"] == 4


def test_meetings_search_without_match_is_empty(kit_url):
    response = list_meetings(kit_url, search="no such webinar")

    assert response.json()["data"] == []
    assert response.json()["paging"] == {"total_count": 0, "start_offset": 1, "end_offset": 0}


def test_meetings_blank_parameters_count_as_absent(kit_url):
    response = list_meetings(kit_url, search="", status="", page_no="", per_page="")

    assert response.status_code == 200
    assert response.json()["paging"]["total_count"] == 13


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_no": "abc"}, "page_no"),
        ({"page_no": "0"}, "page_no"),
        ({"page_no": "-1"}, "page_no"),
        ({"page_no": "1.5"}, "page_no"),
        ({"per_page": "0"}, "per_page"),
        ({"per_page": "101"}, "per_page"),
        ({"status": "LIVE"}, "status"),
        ({"start_time": "yesterday"}, "start_time"),
        ({"end_time": "2026-13-01"}, "end_time"),
    ],
)
def test_meetings_reject_invalid_parameters(kit_url, params, field):
    response = list_meetings(kit_url, **params)

    body = response.json()
    assert response.status_code == 400
    assert body["success"] is False
    assert body["error"]["code"] == 400
    assert field in body["error"]["message"]


def test_meetings_accept_per_page_of_one_hundred(kit_url):
    response = list_meetings(kit_url, per_page=100)

    assert response.status_code == 200
    assert len(response.json()["data"]) == 13


def test_meeting_title_keeps_non_ascii(kit_url):
    response = requests.get(f"{kit_url}/meetings/{seed.MEETING_NON_ASCII}", headers=AUTH, timeout=5)

    title = response.json()["data"]["title"]
    assert title == seed.NON_ASCII_TITLE
    assert len(title) >= 110
    assert not title.isascii()
