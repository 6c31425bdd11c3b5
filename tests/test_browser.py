"""The moderator's flow in real headless Chromium (Debian's package, driven by Playwright)."""

import re
import time

import pytest
import requests
from django.contrib.auth import get_user_model
from playwright.sync_api import expect, sync_playwright

from polls.models import Membership, Poll
from tests.support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SANDBOX_ACCOUNT_ID,
    SANDBOX_API_TOKEN,
    SANDBOX_APP_ID,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API keeps an event loop running in this thread, which makes Django
    # refuse ORM calls here. The calls the tests and fixtures make are still synchronous.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.console_errors = []
    page.on(
        "console",
        lambda message: message.type == "error" and page.console_errors.append(message.text),
    )
    yield page
    context.close()


@pytest.fixture
def signed_in(page, organisation, transactional_db):
    user = get_user_model().objects.create_user(username="host", password="a long passphrase")
    Membership.objects.create(user=user, organisation=organisation, role=Membership.Role.HOST)

    log_in(page, "host", "a long passphrase")
    return page


def log_in(page, username, password):
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/meetings/$"))


def test_picker_badges_and_search_as_you_type(signed_in, sandbox):
    page = signed_in
    live = next(m for m in sandbox.meetings() if m["session"])

    expect(page.get_by_text(re.compile(r"Live · \d+ participant")).first).to_be_visible()
    page.get_by_label("Search by title or meeting id").fill(live["title"])

    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"\?q="))
    assert page.console_errors == []


def test_picker_pages_without_a_reload(signed_in, sandbox):
    page = signed_in
    page.evaluate("window.marker = 'same page'")

    page.get_by_role("link", name="Next").click()

    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    expect(page).to_have_url(re.compile(r"page=2"))
    assert page.evaluate("window.marker") == "same page"


def test_host_launches_a_poll_and_sees_it(signed_in, sandbox):
    page = signed_in
    meeting = next(m for m in sandbox.meetings() if m["session"])
    page.goto(f"/meetings/{meeting['id']}/")
    page.evaluate("window.marker = 'same page'")

    page.get_by_label("Question").fill("Which topic next?")
    page.get_by_label("Option 1", exact=True).fill("Pricing")
    page.get_by_label("Option 2", exact=True).fill("Roadmap")
    page.get_by_role("button", name="Add option").click()
    page.get_by_label("Option 3", exact=True).fill("Q&A")
    page.get_by_role("button", name="Launch poll").click()

    expect(page.get_by_text("Poll launched: “Which topic next?”")).to_be_visible()
    card = page.locator("#poll-list .poll-card").first
    expect(card).to_contain_text("Which topic next?")
    expect(card).to_contain_text("Q&A")
    expect(page.get_by_label("Question")).to_have_value("")
    assert page.evaluate("window.marker") == "same page"
    assert [p["question"] for p in sandbox.meeting(meeting["id"])["polls"]] == ["Which topic next?"]
    assert page.console_errors == []


def test_removed_option_row_is_not_sent(signed_in, sandbox):
    page = signed_in
    meeting_id = sandbox.live_meeting_id()
    page.goto(f"/meetings/{meeting_id}/")

    page.get_by_label("Question").fill("Lunch?")
    page.get_by_role("button", name="Add option").click()
    page.get_by_label("Option 1", exact=True).fill("Soup")
    page.get_by_label("Option 2", exact=True).fill("Remove me")
    page.get_by_label("Option 3", exact=True).fill("Salad")
    page.get_by_role("button", name="Remove option 2").click()
    page.get_by_role("button", name="Launch poll").click()

    expect(page.get_by_text("Poll launched")).to_be_visible()
    assert [o.text for o in Poll.objects.get().options.all()] == ["Soup", "Salad"]


def test_launch_into_empty_meeting_explains_and_keeps_input(signed_in, sandbox):
    page = signed_in
    page.goto(f"/meetings/{sandbox.idle_meeting_id()}/")

    page.get_by_label("Question").fill("Anyone here?")
    page.get_by_label("Option 1", exact=True).fill("Yes")
    page.get_by_label("Option 2", exact=True).fill("No")
    page.get_by_role("button", name="Launch poll").click()

    expect(page.get_by_role("alert")).to_contain_text("Nobody is in this meeting right now")
    expect(page.get_by_label("Question")).to_have_value("Anyone here?")
    expect(page.get_by_label("Option 2", exact=True)).to_have_value("No")
    assert not Poll.objects.exists()


def test_invalid_poll_shows_field_error(signed_in, sandbox):
    page = signed_in
    page.goto(f"/meetings/{sandbox.live_meeting_id()}/")

    page.get_by_label("Question").fill("Same twice?")
    page.get_by_label("Option 1", exact=True).fill("Yes")
    page.get_by_label("Option 2", exact=True).fill("yes")
    page.get_by_role("button", name="Launch poll").click()

    expect(page.locator(".options .field-error")).to_contain_text("appears twice")
    expect(page.get_by_label("Option 2", exact=True)).to_have_value("yes")
    assert sandbox.api_requests("POST") == []


def test_admin_pages_work_without_console_errors(page, organisation, transactional_db, sandbox):
    admin = get_user_model().objects.create_user(username="boss", password="a long passphrase")
    Membership.objects.create(user=admin, organisation=organisation, role=Membership.Role.ADMIN)
    viewer = get_user_model().objects.create_user(username="watcher", password="x" * 12)
    Membership.objects.create(user=viewer, organisation=organisation)
    log_in(page, "boss", "a long passphrase")

    page.get_by_role("link", name="Connection").click()
    page.get_by_role("button", name="Check and save").click()
    expect(page.get_by_role("status")).to_contain_text("Connection saved")
    page.get_by_role("link", name="Members").click()
    page.get_by_label("Role of watcher").select_option("host")
    page.locator("tr", has_text="watcher").get_by_role("button", name="Change role").click()

    expect(page.get_by_role("status")).to_contain_text("watcher is now host")
    assert Membership.objects.get(user=viewer).role == "host"
    assert page.console_errors == []


@pytest.fixture
def live_results(settings, sandbox):
    settings.REALTIMEKIT_SDK_URL = f"{sandbox.url}/sandbox/sdk.js"


def poll_in_meeting(sandbox, meeting_id, question):
    """Create a poll as a participant inside the meeting would, through the sandbox."""
    body = {"question": question, "options": ["Y", "N"]}
    return sandbox.control("POST", f"/meetings/{meeting_id}/polls", json=body)["poll"]


def vote(sandbox, meeting_id, poll_id, option, voter):
    sandbox.control(
        "POST",
        f"/meetings/{meeting_id}/polls/{poll_id}/votes",
        json={"option": option, "voter_id": voter, "voter_name": voter.title()},
    )


def test_live_votes_outlast_the_session(signed_in, sandbox, live_results, browser):
    page = signed_in
    meeting_id = sandbox.live_meeting_id()
    page.goto(f"/meetings/{meeting_id}/")
    expect(page.locator("#observer")).to_contain_text("Live results: on")
    page.evaluate("window.marker = 'same page'")
    page.get_by_label("Question").fill("Lunch?")
    page.get_by_label("Option 1", exact=True).fill("Soup")
    page.get_by_label("Option 2", exact=True).fill("Salad")
    page.get_by_role("button", name="Launch poll").click()
    card = page.locator("#poll-list .poll-card").first
    expect(card).to_contain_text("0 votes in total")
    poll_id = sandbox.meeting(meeting_id)["polls"][0]["id"]

    vote(sandbox, meeting_id, poll_id, 0, "ana")
    expect(card).to_contain_text("1 vote in total", timeout=2000)
    vote(sandbox, meeting_id, poll_id, 1, "bo")
    vote(sandbox, meeting_id, poll_id, 1, "cy")
    expect(card).to_contain_text("3 votes in total", timeout=2000)
    expect(card.locator(".poll-option").nth(1)).to_contain_text("2 votes · 67%")
    card.get_by_text("Who voted").click()
    expect(card.locator(".voter-lists")).to_contain_text("Bo, Cy")
    # The names stay on screen while a refresh replaces the list and loads them again.
    page.evaluate(
        """() => new MutationObserver(() => {
            const open = document.querySelector("details.voters[open]");
            if (open && open.textContent.includes("Show the names")) window.namesBlinked = true;
        }).observe(document.body, {childList: true, attributes: true, subtree: true})"""
    )
    vote(sandbox, meeting_id, poll_id, 1, "di")
    expect(card).to_contain_text("4 votes in total", timeout=2000)
    expect(card.locator("details.voters")).to_have_attribute("open", "")
    expect(card.locator(".voter-lists dd").nth(1)).to_have_text("Bo, Cy, Di")
    assert page.evaluate("window.namesBlinked") is None

    second = browser.new_context(base_url=page.url).new_page()
    log_in(second, "host", "a long passphrase")
    second.goto(f"/polls/{Poll.objects.get(upstream_id=poll_id).pk}/")
    expect(second.locator(".poll-results")).to_contain_text("4 votes in total")

    sandbox.control("DELETE", f"/meetings/{meeting_id}/session")
    expect(card).to_contain_text("Session ended · final results", timeout=5000)
    expect(page.locator("#live-session")).to_contain_text("The session has ended.")
    expect(page.get_by_role("button", name="Launch poll")).to_have_count(0)
    expect(page.locator("#poll-list")).not_to_have_attribute("hx-trigger", "every 1s")
    expect(second.locator(".poll-results")).to_contain_text("Session ended", timeout=5000)
    assert page.evaluate("window.marker") == "same page"
    assert page.console_errors == []

    page.reload()
    expect(page.locator("#poll-list .poll-card").first).to_contain_text("4 votes in total")
    export = page.request.get(f"/polls/{Poll.objects.get(upstream_id=poll_id).pk}/export.csv")
    assert export.text().splitlines()[1:] == [
        "Lunch?,Soup,1,25,Ana",
        "Lunch?,Salad,3,75,Bo; Cy; Di",
    ]
    second.context.close()


def test_hidden_tab_stops_refreshing_until_shown_again(signed_in, sandbox):
    page = signed_in
    page.goto(f"/meetings/{sandbox.live_meeting_id()}/")
    refreshes = []
    page.on("request", lambda request: "/polls/live/" in request.url and refreshes.append(1))
    page.wait_for_timeout(1500)
    assert refreshes, "the poll list should refresh every second while visible"

    page.evaluate("Object.defineProperty(document, 'hidden', {value: true, configurable: true})")
    refreshes.clear()
    page.wait_for_timeout(2500)
    hidden_refreshes = len(refreshes)
    page.evaluate("Object.defineProperty(document, 'hidden', {value: false, configurable: true})")
    page.wait_for_timeout(1500)

    assert hidden_refreshes == 0
    assert refreshes


def test_observer_reconnects_after_its_token_is_refused(signed_in, sandbox, live_results):
    page = signed_in
    meeting_id = sandbox.live_meeting_id()
    poll = poll_in_meeting(sandbox, meeting_id, "Tea?")
    page.goto(f"/meetings/{meeting_id}/")
    expect(page.locator("#observer")).to_contain_text("Live results: on")
    participant = sandbox.meeting(meeting_id)["participants"][0]

    # Someone else refreshes the observer's token, so the page's copy is refused from now on.
    requests.post(
        f"{sandbox.api_url}/accounts/{SANDBOX_ACCOUNT_ID}/realtime/kit/{SANDBOX_APP_ID}"
        f"/meetings/{meeting_id}/participants/{participant['id']}/token",
        headers={"Authorization": f"Bearer {SANDBOX_API_TOKEN}"},
        timeout=5,
    ).raise_for_status()
    expect(page.locator("#observer")).to_contain_text("not connected")
    expect(page.locator("#observer")).to_contain_text("Live results: on", timeout=10_000)
    vote(sandbox, meeting_id, poll["id"], 0, "ana")

    expect(page.locator("#poll-list")).to_contain_text("1 vote in total", timeout=2000)
    assert len(sandbox.meeting(meeting_id)["participants"]) == 1


def test_observer_sends_only_the_polls_that_changed(signed_in, sandbox, live_results):
    page = signed_in
    meeting_id = sandbox.live_meeting_id()
    first = poll_in_meeting(sandbox, meeting_id, "Tea?")
    second = poll_in_meeting(sandbox, meeting_id, "Cake?")
    posts = []
    page.on(
        "request",
        lambda request: "/polls/sync" in request.url and posts.append(request.post_data_json),
    )
    page.goto(f"/meetings/{meeting_id}/")
    expect(page.locator("#poll-list")).to_contain_text("Cake?")
    joined = len(posts)

    vote(sandbox, meeting_id, second["id"], 1, "ana")
    expect(page.locator("#poll-list")).to_contain_text("1 vote in total", timeout=2000)

    assert {poll["id"] for poll in posts[0]["polls"]} == {first["id"], second["id"]}
    assert [[poll["id"] for poll in post["polls"]] for post in posts[joined:]] == [[second["id"]]]


def test_observer_leaves_the_meeting_when_the_page_closes(signed_in, sandbox, live_results):
    page = signed_in
    meeting_id = sandbox.live_meeting_id()
    page.goto(f"/meetings/{meeting_id}/")
    expect(page.locator("#observer")).to_contain_text("Live results: on")

    page.goto("/meetings/")

    deadline = time.monotonic() + 3
    while sandbox.meeting(meeting_id)["participants"][0]["leaves"] == 0:
        assert time.monotonic() < deadline, "the page did not leave the meeting"
        time.sleep(0.1)
    assert sandbox.meeting(meeting_id)["participants"][0]["connected"] is False


def test_second_tab_takes_over_later(signed_in, sandbox, live_results):
    first = signed_in
    meeting_id = sandbox.live_meeting_id()
    first.goto(f"/meetings/{meeting_id}/")
    expect(first.locator("#observer")).to_contain_text("Live results: on")
    second = first.context.new_page()

    second.goto(f"/meetings/{meeting_id}/")
    expect(second.locator("#observer")).to_contain_text("another tab of this browser")
    first.close()

    expect(second.locator("#observer")).to_contain_text("Live results: on", timeout=5000)


def test_observer_stops_when_the_moderator_is_signed_out(signed_in, sandbox, live_results):
    page = signed_in
    meeting_id = sandbox.live_meeting_id()
    poll = poll_in_meeting(sandbox, meeting_id, "Tea?")
    page.goto(f"/meetings/{meeting_id}/")
    expect(page.locator("#observer")).to_contain_text("Live results: on")

    page.context.clear_cookies(name="sessionid")  # the CSRF cookie stays
    vote(sandbox, meeting_id, poll["id"], 0, "ana")

    expect(page.locator("#observer")).to_contain_text("you are signed out", timeout=3000)
    assert Poll.objects.get(upstream_id=poll["id"]).total_votes == 0


def test_pages_fit_a_phone_screen(page, organisation, transactional_db, sandbox):
    admin = get_user_model().objects.create_user(username="boss", password="a long passphrase")
    Membership.objects.create(user=admin, organisation=organisation, role=Membership.Role.ADMIN)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "boss", "a long passphrase")

    for path in ["/meetings/", f"/meetings/{sandbox.live_meeting_id()}/", "/settings/members/"]:
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        title_width = page.evaluate(
            "Math.min(...[...document.querySelectorAll('td a, td:first-child')]"
            ".map((cell) => cell.getBoundingClientRect().width), 9999)"
        )
        assert width <= 390, f"{path} is {width} px wide"
        assert title_width > 100, f"a first column on {path} is only {title_width} px wide"


def test_waiting_tab_stops_when_the_session_ends(signed_in, sandbox, live_results):
    first = signed_in
    meeting_id = sandbox.live_meeting_id()
    first.goto(f"/meetings/{meeting_id}/")
    expect(first.locator("#observer")).to_contain_text("Live results: on")
    second = first.context.new_page()
    token_requests = []
    second.on("request", lambda request: "/observer/" in request.url and token_requests.append(1))
    second.goto(f"/meetings/{meeting_id}/")
    expect(second.locator("#observer")).to_contain_text("another tab of this browser")

    sandbox.control("DELETE", f"/meetings/{meeting_id}/session")
    expect(second.locator("#observer")).to_have_text(
        "Live results: the session has ended.", timeout=5000
    )
    first.close()
    second.wait_for_timeout(1000)

    assert token_requests == []
