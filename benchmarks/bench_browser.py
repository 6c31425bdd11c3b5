"""The benchmark's browser phase: votes cast in the sandbox, timed until a real Chromium
page shows them.

The meeting page runs observer.js, which joins through the sandbox's stand-in SDK and forwards
each change to the dashboard, and htmx refreshes the page's poll list every second. A vote is
counted as shown once the poll's card displays the new total.
"""

import re
import time
from dataclasses import dataclass, field

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from benchmarks.bench_client import summarize

# Debian's Chromium and the flags that the project's browser tests use, for the same reasons.
from tests.support import CHROMIUM, CHROMIUM_ARGS

SHOW_TIMEOUT_MS = 15_000
# The observer's status line once it has joined: see say() in static/js/observer.js.
OBSERVER_ON = re.compile(r"Live results: on\b")
TOTAL_SHOWN = """
([question, total]) => {
  for (const card of document.querySelectorAll("#poll-list .poll-card")) {
    if (!card.textContent.includes(question)) continue;
    const shown = card.querySelector(".poll-total strong");
    return Boolean(shown) && shown.textContent.trim() === String(total);
  }
  return false;
}
"""


@dataclass
class BrowserResult:
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def summary(self):
        return summarize(self.latencies_ms)


def measure_browser(*, dashboard_url, sandbox, meeting_id, username, password, votes):
    """Log in through the form, open the meeting page, create a poll in the sandbox and cast
    `votes` votes one at a time, timing each until the page shows the new total."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    result = BrowserResult()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(base_url=dashboard_url).new_page()
            _log_in(page, username, password)
            page.goto(f"/meetings/{meeting_id}/")
            page.locator("#observer").filter(has_text=OBSERVER_ON).wait_for(timeout=15_000)
            question = f"Bench browser poll {int(time.time())}"
            poll = sandbox.json(
                "POST",
                f"/meetings/{meeting_id}/polls",
                json={"question": question, "options": ["Yes", "No"], "created_by": "Bench"},
            )["poll"]
            page.wait_for_function(TOTAL_SHOWN, arg=[question, 0], timeout=SHOW_TIMEOUT_MS)
            for number in range(1, votes + 1):
                _time_one_vote(page, sandbox, meeting_id, poll["id"], question, number, result)
        except PlaywrightError as error:
            result.errors.append(f"browser: {error.message.splitlines()[0]}")
        finally:
            browser.close()
    return result


def _log_in(page, username, password):
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    # A session cookie that Chromium refused would bring the login page back here.
    page.wait_for_url(re.compile(r"/meetings/$"), timeout=15_000)


def _time_one_vote(page, sandbox, meeting_id, poll_id, question, number, result):
    started = time.monotonic()
    response = sandbox.request(
        "POST",
        f"/meetings/{meeting_id}/polls/{poll_id}/votes",
        json={"option": number % 2, "voter_id": f"bench-voter-{number}"},
    )
    if response.status_code != 201:
        result.errors.append(f"vote {number}: sandbox HTTP {response.status_code}")
        return
    try:
        page.wait_for_function(
            TOTAL_SHOWN, arg=[question, number], polling="raf", timeout=SHOW_TIMEOUT_MS
        )
    except PlaywrightTimeoutError:
        result.errors.append(f"vote {number}: not shown within {SHOW_TIMEOUT_MS} ms")
        return
    result.latencies_ms.append((time.monotonic() - started) * 1000)
    # A pause between votes, so each is timed from a page that has settled.
    time.sleep(0.3)
