"""The stand-in browser SDK, sdk.js, in real headless Chromium on a page of another origin."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from playwright.sync_api import sync_playwright

from sandbox import seed
from tests.support import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

AUTH = {"Authorization": f"Bearer {seed.API_TOKEN}"}
LIVE_MEETING = seed.MEETING_ONBOARDING
# Milliseconds to wait for an event that the sandbox sends at once.
EVENT_TIMEOUT_MS = 3000

# Records every event of a meeting in window.events, as plain data Playwright can return.
INIT_AND_JOIN = """
async (token) => {
  window.events = [];
  const meeting = await RealtimeKitClient.init({
    authToken: token,
    defaults: {audio: false, video: false},
  });
  window.meeting = meeting;
  meeting.self.on("roomJoined", () => events.push({type: "roomJoined"}));
  meeting.self.on("roomLeft", (event) => events.push({type: "roomLeft", state: event.state}));
  meeting.polls.on("pollsUpdate", ({polls, newPoll}) => events.push({
    type: "pollsUpdate",
    polls: polls,
    newPoll: newPoll === undefined ? null : newPoll.id,
  }));
  await meeting.join();
  return {
    self: {
      id: meeting.self.id,
      name: meeting.self.name,
      customParticipantId: meeting.self.customParticipantId,
      presetName: meeting.self.presetName,
      roomJoined: meeting.self.roomJoined,
    },
    meetingId: meeting.meta.meetingId,
    items: meeting.polls.items,
  };
}
"""

# Resolves with the rejection's status and message, or null when the call succeeds.
REJECTION = """
async ([token, join]) => {
  try {
    const meeting = await RealtimeKitClient.init({authToken: token});
    if (join) await meeting.join();
    return null;
  } catch (error) {
    return {status: error.status, message: error.message};
  }
}
"""


class PageHandler(BaseHTTPRequestHandler):
    """Serves one empty page that loads sdk.js from the sandbox, on its own origin."""

    sandbox_url = ""

    def do_GET(self) -> None:
        page = f'<!doctype html><title>Observer</title><script src="{self.sandbox_url}/sandbox/sdk.js"></script>'
        body = page.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def page_url(sandbox_server):
    handler = type("Handler", (PageHandler,), {"sandbox_url": sandbox_server})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, page_url, sandbox_url):
    context = browser.new_context()
    page = context.new_page()
    page.console_errors = []
    page.on(
        "console",
        lambda message: message.type == "error" and page.console_errors.append(message.text),
    )
    page.goto(page_url)
    yield page
    context.close()


def add_participant(kit_url: str, meeting_id: str = LIVE_MEETING) -> dict:
    body = {
        "custom_participant_id": "moderator-7",
        "preset_name": "observer",
        "name": "Dashboard observer",
    }
    url = f"{kit_url}/meetings/{meeting_id}/participants"
    response = requests.post(url, json=body, headers=AUTH, timeout=5)
    assert response.status_code == 201
    return response.json()["data"]


def control(sandbox_url: str, method: str, path: str, body: object = None) -> dict:
    response = requests.request(method, f"{sandbox_url}/sandbox{path}", json=body, timeout=5)
    assert response.ok, response.text
    return response.json()


def create_poll(sandbox_url: str, question: str) -> dict:
    body = {"question": question, "options": ["Pricing", "Roadmap"], "created_by": "Priya"}
    return control(sandbox_url, "POST", f"/meetings/{LIVE_MEETING}/polls", body)["poll"]


def wait_for_event(page, count: int) -> list[dict]:
    """Wait until the page has recorded count events, and return them all."""
    page.wait_for_function(f"window.events.length >= {count}", timeout=EVENT_TIMEOUT_MS)
    return page.evaluate("window.events")


def test_join_reports_self_and_current_polls(page, sandbox_url, kit_url):
    participant = add_participant(kit_url)
    poll = create_poll(sandbox_url, "Which topic next?")

    joined = page.evaluate(INIT_AND_JOIN, participant["token"])

    assert joined["self"] == {
        "id": participant["id"],
        "name": "Dashboard observer",
        "customParticipantId": "moderator-7",
        "presetName": "observer",
        "roomJoined": True,
    }
    assert joined["meetingId"] == LIVE_MEETING
    assert [item["id"] for item in joined["items"]] == [poll["id"]]
    assert joined["items"][0]["createdBy"] == "Priya"
    assert page.evaluate("window.events") == [{"type": "roomJoined"}]
    assert page.console_errors == []


def test_vote_and_new_poll_arrive_as_polls_updates(page, sandbox_url, kit_url):
    participant = add_participant(kit_url)
    poll = create_poll(sandbox_url, "Which topic next?")
    page.evaluate(INIT_AND_JOIN, participant["token"])

    vote = {"option": 1, "voter_id": "p-17", "voter_name": "Ana Souza"}
    control(sandbox_url, "POST", f"/meetings/{LIVE_MEETING}/polls/{poll['id']}/votes", vote)
    after_vote = wait_for_event(page, 2)[1]
    second = create_poll(sandbox_url, "Lunch?")
    after_poll = wait_for_event(page, 3)[2]

    assert after_vote["type"] == "pollsUpdate"
    assert after_vote["newPoll"] is None
    assert [option["count"] for option in after_vote["polls"][0]["options"]] == [0, 1]
    assert after_vote["polls"][0]["options"][1]["votes"] == [{"id": "p-17", "name": "Ana Souza"}]
    assert after_poll["newPoll"] == second["id"]
    assert [item["id"] for item in after_poll["polls"]] == [poll["id"], second["id"]]
    assert page.evaluate("meeting.polls.items.length") == 2


def test_ended_session_leaves_the_room(page, sandbox_url, kit_url):
    participant = add_participant(kit_url)
    page.evaluate(INIT_AND_JOIN, participant["token"])

    control(sandbox_url, "DELETE", f"/meetings/{LIVE_MEETING}/session")
    events = wait_for_event(page, 2)

    assert events[1] == {"type": "roomLeft", "state": "ended"}
    assert page.evaluate("meeting.self.roomJoined") is False


def test_leave_stops_updates(page, sandbox_url, kit_url):
    participant = add_participant(kit_url)
    poll = create_poll(sandbox_url, "Which topic next?")
    page.evaluate(INIT_AND_JOIN, participant["token"])

    page.evaluate("meeting.leave()")
    events = wait_for_event(page, 2)
    vote = {"option": 0, "voter_id": "p-1"}
    control(sandbox_url, "POST", f"/meetings/{LIVE_MEETING}/polls/{poll['id']}/votes", vote)
    page.wait_for_timeout(300)

    assert events[1] == {"type": "roomLeft", "state": "left"}
    assert page.evaluate("window.events.length") == 2
    assert page.evaluate("meeting.self.roomJoined") is False


def test_refreshed_token_disconnects(page, sandbox_url, kit_url):
    participant = add_participant(kit_url)
    page.evaluate(INIT_AND_JOIN, participant["token"])

    url = f"{kit_url}/meetings/{LIVE_MEETING}/participants/{participant['id']}/token"
    requests.post(url, headers=AUTH, timeout=5)
    events = wait_for_event(page, 2)

    assert events[1] == {"type": "roomLeft", "state": "disconnected"}


def test_init_rejects_a_refused_token(page):
    rejection = page.evaluate(REJECTION, ["not-a-participant-token", False])

    assert rejection["status"] == 401
    assert "not current" in rejection["message"]


def test_init_rejects_a_missing_token(page):
    rejection = page.evaluate(REJECTION, ["", False])

    assert rejection["status"] == 401
    assert "authToken is missing" in rejection["message"]


def test_join_rejects_a_meeting_without_session(page, kit_url):
    participant = add_participant(kit_url, meeting_id=seed.MEETING_NON_ASCII)

    rejection = page.evaluate(REJECTION, [participant["token"], True])

    assert rejection["status"] == 404
    assert "no live session" in rejection["message"]
