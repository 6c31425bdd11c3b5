"""Test helpers shared by several modules: the sandbox's seeded credentials and its control API."""

from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_ACCOUNT_ID = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
SANDBOX_APP_ID = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
SANDBOX_API_TOKEN = "sandbox-token-0123456789abcdef"
SANDBOX_START_TIMEOUT_SECONDS = 15


class Sandbox:
    """Drives the sandbox's control API, as the demo and a tester would."""

    def __init__(self, url):
        self.url = url
        self.api_url = f"{url}/client/v4"

    def control(self, method, path, **kwargs):
        response = requests.request(method, f"{self.url}/sandbox{path}", timeout=5, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def reset(self):
        self.control("POST", "/reset")

    def meetings(self):
        return self.control("GET", "/meetings")["meetings"]

    def meeting(self, meeting_id):
        return next(meeting for meeting in self.meetings() if meeting["id"] == meeting_id)

    def live_meeting_id(self):
        return next(m["id"] for m in self.meetings() if m["session"])

    def idle_meeting_id(self):
        """Return an ACTIVE meeting that nobody is in."""
        return next(
            m["id"] for m in self.meetings() if m["status"] == "ACTIVE" and not m["session"]
        )

    def inactive_meeting_id(self):
        return next(m["id"] for m in self.meetings() if m["status"] == "INACTIVE")

    def end_session(self, meeting_id):
        self.control("DELETE", f"/meetings/{meeting_id}/session")

    def add_fault(self, **fault):
        return self.control("POST", "/faults", json=fault)

    def api_requests(self, method=None, path_contains=""):
        calls = self.control("GET", "/requests")["requests"]
        return [
            call
            for call in calls
            if (method is None or call["method"] == method) and path_contains in call["path"]
        ]
