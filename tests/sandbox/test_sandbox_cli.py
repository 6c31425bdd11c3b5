"""The python -m sandbox command: host check, startup line, request log lines, clean stop."""

import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from sandbox import seed
from sandbox.server import is_loopback, make_server

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Only ever passed to code that must reject it before binding.
ALL_INTERFACES = "0.0.0.0"  # noqa: S104


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=15,
    )


def wait_for_text(path, text: str, timeout: float = 5) -> str:
    deadline = time.monotonic() + timeout
    content = path.read_text()
    while text not in content and time.monotonic() < deadline:
        time.sleep(0.05)
        content = path.read_text()
    return content


@pytest.mark.parametrize("host", [ALL_INTERFACES, "192.168.1.10", "::", "example.com"])
def test_cli_rejects_a_host_that_is_not_loopback(host):
    result = run_cli("--host", host)

    assert result.returncode == 2
    assert "not a loopback address" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("port", ["-1", "65536", "http"])
def test_cli_rejects_an_invalid_port(port):
    result = run_cli("--port", port)

    assert result.returncode == 2
    assert "port" in result.stderr


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.9.8.7", True),
        ("::1", True),
        ("localhost", True),
        (ALL_INTERFACES, False),
        ("10.0.0.1", False),
        ("localhost.example.com", False),
    ],
)
def test_is_loopback_accepts_only_loopback(host, expected):
    assert is_loopback(host) is expected


def test_cli_prints_one_listening_line_and_logs_requests(launch_sandbox):
    _, url, log_path = launch_sandbox()

    requests.get(f"{url}/sandbox/healthz", timeout=5)
    log = wait_for_text(log_path, "GET /sandbox/healthz 200 ")

    assert url.startswith("http://127.0.0.1:")
    assert int(url.rsplit(":", 1)[1]) > 0
    assert "GET /sandbox/healthz 200 " in log
    assert "ms" in log


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_cli_stops_cleanly_on_signal(launch_sandbox, stop_signal):
    process, url, log_path = launch_sandbox()
    requests.get(f"{url}/sandbox/healthz", timeout=5)

    process.send_signal(stop_signal)
    returncode = process.wait(timeout=10)

    assert returncode == 0
    assert process.stdout.read() == ""
    assert "Traceback" not in log_path.read_text()


def test_cli_stops_once_on_ctrl_c_then_sigterm(launch_sandbox):
    # What `make demo` receives on Ctrl-C: SIGINT to the group, then SIGTERM from manage.py demo.
    process, url, log_path = launch_sandbox()
    requests.get(f"{url}/sandbox/healthz", timeout=5)

    for _ in range(3):
        process.send_signal(signal.SIGINT)
        process.send_signal(signal.SIGTERM)
    returncode = process.wait(timeout=10)

    assert returncode == 0
    assert "Traceback" not in log_path.read_text()
    assert log_path.read_text().count("Sandbox stopping") == 1


def test_cli_uses_identity_from_environment(launch_sandbox):
    _, url, _ = launch_sandbox(extra_env={"SANDBOX_API_TOKEN": "another-token"})
    verify = f"{url}/client/v4/user/tokens/verify"

    accepted = requests.get(verify, headers={"Authorization": "Bearer another-token"}, timeout=5)
    seeded = requests.get(verify, headers={"Authorization": f"Bearer {seed.API_TOKEN}"}, timeout=5)

    assert accepted.status_code == 200
    assert seeded.status_code == 403


def test_cli_listens_on_ipv6_loopback(launch_sandbox):
    if not socket.has_ipv6:
        pytest.skip("this Python has no IPv6 support")
    _, url, _ = launch_sandbox("--host", "::1")

    response = requests.get(f"{url}/sandbox/healthz", timeout=5)

    assert url.startswith("http://[::1]:")
    assert response.json() == {"status": "ok"}


def test_cli_rejects_a_blank_identity_variable(monkeypatch):
    monkeypatch.setenv("SANDBOX_ACCOUNT_ID", " ")

    result = run_cli("--port", "0")

    assert result.returncode == 2
    assert "SANDBOX_ACCOUNT_ID" in result.stderr


def test_make_server_serves_in_process():
    server = make_server("127.0.0.1", 0, seed.Identity("a" * 32, "b" * 32, "in-process-token"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        health = requests.get(f"{server.url}/sandbox/healthz", timeout=5)
        url = f"{server.url}/client/v4/accounts/{'a' * 32}/realtime/kit/apps"
        apps = requests.get(url, headers={"Authorization": "Bearer in-process-token"}, timeout=5)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    assert health.json() == {"status": "ok"}
    assert apps.json()["data"][0]["id"] == "b" * 32


def test_make_server_rejects_a_public_host():
    with pytest.raises(ValueError, match="not a loopback address"):
        make_server(ALL_INTERFACES, 0)


def live_session_ids(url):
    meetings = requests.get(f"{url}/sandbox/meetings", timeout=5).json()["meetings"]
    return {meeting["id"]: meeting["session"]["id"] for meeting in meetings if meeting["session"]}


def test_fresh_sessions_get_new_ids_each_start(launch_sandbox):
    seeded = {item.id: item.session.id for item in seed.MEETINGS if item.session}
    _, first_url, _ = launch_sandbox("--fresh-sessions")
    _, second_url, _ = launch_sandbox("--fresh-sessions")
    _, plain_url, _ = launch_sandbox()

    first = live_session_ids(first_url)
    requests.post(f"{first_url}/sandbox/reset", timeout=5).raise_for_status()
    after_reset = live_session_ids(first_url)
    second = live_session_ids(second_url)

    assert first.keys() == seeded.keys()
    assert set(first.values()).isdisjoint(seeded.values())
    assert set(first.values()).isdisjoint(second.values())
    assert after_reset == first
    assert live_session_ids(plain_url) == seeded
