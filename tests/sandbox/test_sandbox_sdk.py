"""The official Cloudflare SDK, validating responses strictly, accepts every sandbox response."""

from datetime import UTC, datetime

import cloudflare
import pytest

from sandbox import seed

ACCOUNT = seed.ACCOUNT_ID
APP = seed.APP_ID
UNKNOWN_MEETING = "00000000-0000-4000-8000-000000000000"


def make_client(sandbox_url: str, token: str = seed.API_TOKEN) -> cloudflare.Cloudflare:
    return cloudflare.Cloudflare(
        api_token=token,
        base_url=f"{sandbox_url}/client/v4",
        _strict_response_validation=True,
        max_retries=0,
    )


@pytest.fixture
def client(sandbox_url: str, monkeypatch: pytest.MonkeyPatch) -> cloudflare.Cloudflare:
    # The SDK prefers an API key or email from the environment over the token.
    for name in ("CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL", "CLOUDFLARE_API_USER_SERVICE_KEY"):
        monkeypatch.delenv(name, raising=False)
    return make_client(sandbox_url)


def add_observer(client: cloudflare.Cloudflare, meeting_id: str):
    return client.realtime_kit.meetings.add_participant(
        meeting_id,
        account_id=ACCOUNT,
        app_id=APP,
        custom_participant_id="moderator-7",
        preset_name="observer",
        name="Dashboard observer",
    )


def test_apps_get_lists_the_seeded_app(client):
    response = client.realtime_kit.apps.get(account_id=ACCOUNT)

    assert response.success is True
    assert [app.id for app in response.data] == [APP]
    assert response.data[0].name == "Sandbox webinars"
    assert response.data[0].created_at == datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
    assert response.paging.total_count == 1


def test_meetings_get_returns_first_page(client):
    response = client.realtime_kit.meetings.get(APP, account_id=ACCOUNT, page_no=1, per_page=10)

    assert response.success is True
    assert len(response.data) == 10
    assert response.data[0].id == seed.MEETING_PRODUCT_UPDATE
    assert response.paging.total_count == 13
    assert response.paging.start_offset == 1
    assert response.paging.end_offset == 10


def test_meetings_get_second_page_has_the_remaining_three(client):
    response = client.realtime_kit.meetings.get(APP, account_id=ACCOUNT, page_no=2, per_page=10)

    assert [meeting.id for meeting in response.data] == [
        seed.MEETING_PRIVACY_101,
        seed.MEETING_SECURITY_TRAINING,
        seed.MEETING_OBSERVABILITY,
    ]
    assert response.paging.start_offset == 11
    assert response.paging.end_offset == 13


def test_meetings_get_searches_titles(client):
    response = client.realtime_kit.meetings.get(APP, account_id=ACCOUNT, search="town hall")

    assert [meeting.id for meeting in response.data] == [seed.MEETING_TOWN_HALL]
    assert response.data[0].title == "Town hall with the leadership team"
    assert response.data[0].status == "ACTIVE"
    assert response.paging.total_count == 1


def test_meetings_get_filters_by_status_and_time(client):
    response = client.realtime_kit.meetings.get(
        APP,
        account_id=ACCOUNT,
        status="ACTIVE",
        start_time=datetime(2026, 11, 1, tzinfo=UTC),
        end_time=datetime(2026, 11, 20, tzinfo=UTC),
    )

    assert [meeting.id for meeting in response.data] == [
        seed.MEETING_ONBOARDING,
        seed.MEETING_OFFICE_HOURS,
        seed.MEETING_NON_ASCII,
    ]


def test_get_meeting_by_id_returns_the_meeting(client):
    response = client.realtime_kit.meetings.get_meeting_by_id(
        seed.MEETING_NON_ASCII, account_id=ACCOUNT, app_id=APP
    )

    assert response.success is True
    assert response.data.id == seed.MEETING_NON_ASCII
    assert response.data.title == seed.NON_ASCII_TITLE
    assert response.data.status == "ACTIVE"
    assert response.data.created_at == datetime(2026, 11, 5, 8, 0, tzinfo=UTC)
    assert response.data.session_keep_alive_time_in_secs == 60


def test_get_active_session_describes_the_live_session(client):
    response = client.realtime_kit.active_session.get_active_session(
        seed.MEETING_TOWN_HALL, account_id=ACCOUNT, app_id=APP
    )

    session = response.data
    assert response.success is True
    assert session.id == "5d4c3b2a-1908-4e7f-a6b5-c4d3e2f10002"
    assert session.associated_id == seed.MEETING_TOWN_HALL
    assert session.meeting_display_name == "Town hall with the leadership team"
    assert session.organization_id == APP
    assert session.status == "LIVE"
    assert session.type == "meeting"
    assert session.live_participants == 230
    assert session.minutes_consumed >= 41
    assert session.ended_at is None


def test_create_poll_returns_the_new_poll(client):
    response = client.realtime_kit.active_session.create_poll(
        seed.MEETING_ONBOARDING,
        account_id=ACCOUNT,
        app_id=APP,
        question="Which topic next?",
        options=["Billing", "Webhooks", "Recording"],
        anonymous=True,
    )

    poll = response.data.poll
    assert response.success is True
    assert response.data.action == "create"
    assert poll.question == "Which topic next?"
    assert [option.text for option in poll.options] == ["Billing", "Webhooks", "Recording"]
    assert [option.count for option in poll.options] == [0, 0, 0]
    assert poll.anonymous is True
    assert poll.hide_votes is False
    assert poll.created_by == "REST API"
    assert poll.voted == []


def test_add_participant_returns_a_token(client):
    response = add_observer(client, seed.MEETING_ONBOARDING)

    participant = response.data
    assert response.success is True
    assert participant.custom_participant_id == "moderator-7"
    assert participant.preset_name == "observer"
    assert participant.name == "Dashboard observer"
    assert participant.picture is None
    assert len(participant.token) >= 32


def test_refresh_participant_token_returns_a_new_token(client):
    participant = add_observer(client, seed.MEETING_ONBOARDING).data

    response = client.realtime_kit.meetings.refresh_participant_token(
        participant.id, account_id=ACCOUNT, app_id=APP, meeting_id=seed.MEETING_ONBOARDING
    )

    assert response.success is True
    assert response.data.token
    assert response.data.token != participant.token


def test_presets_get_lists_every_preset(client):
    response = client.realtime_kit.presets.get(APP, account_id=ACCOUNT, page_no=1, per_page=10)

    assert [preset.name for preset in response.data] == ["webinar_host", "observer", "attendee"]
    assert [preset.id for preset in response.data] == [
        seed.PRESET_WEBINAR_HOST,
        seed.PRESET_OBSERVER,
        seed.PRESET_ATTENDEE,
    ]
    assert response.paging.total_count == 3
    assert response.paging.end_offset == 3


# preset id, name, hidden_participant, (can_create, can_view, can_vote)
PRESET_PERMISSIONS = [
    (seed.PRESET_WEBINAR_HOST, "webinar_host", False, (True, True, True)),
    (seed.PRESET_OBSERVER, "observer", True, (False, True, False)),
    (seed.PRESET_ATTENDEE, "attendee", False, (False, True, True)),
]


@pytest.mark.parametrize(("preset_id", "name", "hidden", "polls"), PRESET_PERMISSIONS)
def test_get_preset_by_id_returns_permissions(client, preset_id, name, hidden, polls):
    response = client.realtime_kit.presets.get_preset_by_id(
        preset_id, account_id=ACCOUNT, app_id=APP
    )

    preset = response.data
    permissions = preset.permissions
    assert response.success is True
    assert preset.id == preset_id
    assert preset.name == name
    assert permissions.hidden_participant is hidden
    assert permissions.polls.can_create is polls[0]
    assert permissions.polls.can_view is polls[1]
    assert permissions.polls.can_vote is polls[2]


def test_get_preset_by_id_fills_config_and_ui(client):
    response = client.realtime_kit.presets.get_preset_by_id(
        seed.PRESET_OBSERVER, account_id=ACCOUNT, app_id=APP
    )

    preset = response.data
    assert preset.created_at == datetime(2026, 5, 4, 9, 40, tzinfo=UTC)
    assert preset.updated_at == datetime(2026, 6, 11, 14, 5, tzinfo=UTC)
    assert preset.config.view_type == "WEBINAR"
    assert preset.permissions.media.video.can_produce == "NOT_ALLOWED"
    assert preset.ui.design_tokens.theme == "light"


def test_get_unknown_preset_raises_not_found(client):
    with pytest.raises(cloudflare.NotFoundError) as caught:
        client.realtime_kit.presets.get_preset_by_id(
            UNKNOWN_MEETING, account_id=ACCOUNT, app_id=APP
        )

    assert caught.value.body["error"]["message"] == f"Preset {UNKNOWN_MEETING} not found"


def test_user_token_verify_reports_active(client):
    result = client.user.tokens.verify()

    assert result.status == "active"
    assert result.id == seed.API_TOKEN_ID


def test_account_token_verify_reports_active(client):
    result = client.accounts.tokens.verify(account_id=ACCOUNT)

    assert result.status == "active"
    assert result.id == seed.API_TOKEN_ID


def test_wrong_token_raises_permission_denied(sandbox_url):
    client = make_client(sandbox_url, token="not-the-sandbox-token")

    with pytest.raises(cloudflare.PermissionDeniedError) as caught:
        client.realtime_kit.meetings.get(APP, account_id=ACCOUNT)

    assert caught.value.status_code == 403
    assert caught.value.body["success"] is False
    assert caught.value.body["errors"] == [{"code": 10000, "message": "Authentication error"}]
    assert caught.value.body["result"] is None


def test_non_bearer_header_raises_authentication_error(client):
    with pytest.raises(cloudflare.AuthenticationError) as caught:
        client.user.tokens.verify(extra_headers={"Authorization": "Basic c2FuZGJveA=="})

    assert caught.value.status_code == 401
    assert caught.value.body["errors"][0]["code"] == 10000


def test_unknown_account_raises_permission_denied(client):
    with pytest.raises(cloudflare.PermissionDeniedError) as caught:
        client.realtime_kit.apps.get(account_id="0" * 32)

    assert caught.value.status_code == 403
    assert caught.value.body["errors"][0]["code"] == 9109


def test_unknown_app_raises_not_found(client):
    with pytest.raises(cloudflare.NotFoundError) as caught:
        client.realtime_kit.presets.get("1" * 32, account_id=ACCOUNT)

    assert caught.value.status_code == 404
    assert caught.value.body["success"] is False
    assert caught.value.body["error"]["code"] == 404


def test_unknown_meeting_raises_not_found(client):
    with pytest.raises(cloudflare.NotFoundError) as caught:
        client.realtime_kit.meetings.get_meeting_by_id(
            UNKNOWN_MEETING, account_id=ACCOUNT, app_id=APP
        )

    assert caught.value.body["error"]["message"] == f"Meeting {UNKNOWN_MEETING} not found"


def test_meeting_without_session_raises_not_found(client):
    with pytest.raises(cloudflare.NotFoundError) as caught:
        client.realtime_kit.active_session.get_active_session(
            seed.MEETING_NON_ASCII, account_id=ACCOUNT, app_id=APP
        )

    message = caught.value.body["error"]["message"]
    assert message == f"No active session found for meeting {seed.MEETING_NON_ASCII}"


def test_create_poll_with_one_option_raises_bad_request(client):
    with pytest.raises(cloudflare.BadRequestError) as caught:
        client.realtime_kit.active_session.create_poll(
            seed.MEETING_ONBOARDING, account_id=ACCOUNT, app_id=APP, question="Ok?", options=["Yes"]
        )

    assert caught.value.status_code == 400
    assert "options" in caught.value.body["error"]["message"]


def test_add_participant_with_unknown_preset_raises_bad_request(client):
    with pytest.raises(cloudflare.BadRequestError) as caught:
        client.realtime_kit.meetings.add_participant(
            seed.MEETING_ONBOARDING,
            account_id=ACCOUNT,
            app_id=APP,
            custom_participant_id="moderator-7",
            preset_name="speaker",
        )

    assert "preset_name" in caught.value.body["error"]["message"]


def test_refresh_token_of_unknown_participant_raises_not_found(client):
    with pytest.raises(cloudflare.NotFoundError):
        client.realtime_kit.meetings.refresh_participant_token(
            UNKNOWN_MEETING, account_id=ACCOUNT, app_id=APP, meeting_id=seed.MEETING_ONBOARDING
        )
