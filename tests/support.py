"""Test helpers shared by several modules: starting the sandbox and driving its control API."""

import os
import select
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from sandbox import seed

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SANDBOX_ACCOUNT_ID = seed.ACCOUNT_ID
SANDBOX_APP_ID = seed.APP_ID
SANDBOX_API_TOKEN = seed.API_TOKEN
# Cloudflare's gateway rejects a bad token in the v4 envelope, not in RealtimeKit's own shape.
AUTHENTICATION_ERROR = {
    "success": False,
    "errors": [{"code": 10000, "message": "Authentication error"}],
    "messages": [],
    "result": None,
}
LISTENING_PREFIX = "Sandbox listening on "
# The browser tests drive Debian's Chromium.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without these, Chromium reaches for Google's services at start, which this machine refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_TIMEOUT_SECONDS = 15


def free_port():
    """Return a loopback port that nothing listens on at the moment."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_sandbox(log_path, *args, extra_env=None):
    """Start `python -m sandbox --port 0` with stderr going to log_path; return it and its URL."""
    # SANDBOX_* variables in the caller's environment would change the seeded identity.
    env = {name: value for name, value in os.environ.items() if not name.startswith("SANDBOX_")}
    env.update(extra_env or {})
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "--port", "0", *args],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )

    ready, _, _ = select.select([process.stdout], [], [], STARTUP_TIMEOUT_SECONDS)
    line = process.stdout.readline() if ready else ""
    if not line.startswith(LISTENING_PREFIX):
        process.kill()
        process.wait()
        raise RuntimeError(f"Sandbox did not start; stdout {line!r}, log: {log_path.read_text()}")
    return process, line.removeprefix(LISTENING_PREFIX).strip()


def stop_sandbox(process):
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    process.stdout.close()


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

    def add_fault(self, **fault):
        return self.control("POST", "/faults", json=fault)

    def wait_for_requests(self, count, method=None, path_contains="", timeout=5):
        """Return the matching logged calls once there are `count` of them.

        The sandbox logs a call when it sends the response, so a call held back by a delay
        fault shows up only after its delay, possibly after the client has given up on it.
        """
        deadline = time.monotonic() + timeout
        while len(calls := self.api_requests(method, path_contains)) < count:
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        return calls

    def api_requests(self, method=None, path_contains=""):
        calls = self.control("GET", "/requests")["requests"]
        return [
            call
            for call in calls
            if (method is None or call["method"] == method) and path_contains in call["path"]
        ]
