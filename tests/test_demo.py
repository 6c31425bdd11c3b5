"""`manage.py demo`, which `make demo` runs: the checks it makes before serving."""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from polls.models import Organisation
from sandbox import seed
from tests.support import PROJECT_ROOT, free_port


@override_settings(DEBUG=False)
def test_demo_refuses_to_run_without_debug(db):
    with pytest.raises(CommandError, match="DJANGO_DEBUG=true"):
        call_command("demo")


@override_settings(DEBUG=True)
def test_demo_stops_when_the_sandbox_port_is_taken(db):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(CommandError, match=f"did not start on port {port}") as raised:
            call_command("demo", sandbox_port=port, port=0)

    assert f"SANDBOX_PORT={port + 1}" in str(raised.value)
    # A demo already running from this database keeps its sandbox's address.
    assert not Organisation.objects.exists()


@override_settings(DEBUG=True)
def test_demo_stops_when_the_dashboard_port_is_taken(db):
    sandbox_port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(CommandError, match=f"Port {port} for the dashboard is in use"):
            call_command("demo", sandbox_port=sandbox_port, port=port)

    assert not port_is_open(sandbox_port)
    assert not Organisation.objects.exists()


@override_settings(DEBUG=True)
def test_demo_moderator_points_at_the_sandbox(db, monkeypatch):
    monkeypatch.setattr(
        "django.core.management.commands.runserver.Command.handle", lambda *a, **k: None
    )
    sandbox_port = free_port()

    call_command("demo", sandbox_port=sandbox_port, port=0)

    organisation = Organisation.objects.get()
    assert organisation.api_base_url == f"http://127.0.0.1:{sandbox_port}/client/v4"
    assert authenticate(username="demo", password="demo").membership.organisation == organisation
    assert not port_is_open(sandbox_port)


def port_is_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.fixture
def ignored_sigint():
    """Start the demo with SIGINT ignored, as a shell starts a program in the background."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture
def running_demo(tmp_path):
    """Start `manage.py demo` in its own process group, as a terminal would run `make demo`."""
    sandbox_port, dashboard_port = free_port(), free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "SANDBOX_PORT": str(sandbox_port),
        "DASHBOARD_PORT": str(dashboard_port),
    }
    demo = subprocess.Popen(
        [sys.executable, "manage.py", "demo"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not port_is_open(dashboard_port) and time.monotonic() < deadline:
        time.sleep(0.2)
    yield demo, sandbox_port, dashboard_port
    # Whatever the test did, nothing of the group may outlive it, a stray sandbox included.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(demo.pid, signal.SIGKILL)
    demo.wait()


@pytest.mark.parametrize("stop", ["ctrl_c", "sigterm", "ctrl_c_in_background"])
def test_demo_serves_and_stops_both_servers(request, stop):
    # A shell starts a background program with SIGINT ignored; Ctrl-C must still stop both.
    request.getfixturevalue("ignored_sigint" if stop == "ctrl_c_in_background" else "tmp_path")
    demo, sandbox_port, dashboard_port = request.getfixturevalue("running_demo")
    stop = stop.removesuffix("_in_background")
    login = requests.get(f"http://127.0.0.1:{dashboard_port}/login/", timeout=5)
    health = requests.get(f"http://127.0.0.1:{sandbox_port}/sandbox/healthz", timeout=5)

    if stop == "ctrl_c":
        os.killpg(demo.pid, signal.SIGINT)
    else:
        demo.terminate()
    output, _ = demo.communicate(timeout=20)

    assert login.status_code == 200
    assert health.json() == {"status": "ok"}
    assert "log in as demo / demo" in output
    assert demo.returncode == 0
    assert "Traceback" not in output
    assert "Stopped the dashboard and the sandbox." in output
    assert "The sandbox stopped" not in output
    assert not port_is_open(sandbox_port)
    assert not port_is_open(dashboard_port)


def test_demo_meeting_page_joins_through_the_sandbox_sdk(running_demo):
    _, sandbox_port, dashboard_port = running_demo
    dashboard = f"http://127.0.0.1:{dashboard_port}"
    browser = requests.Session()
    login_page = browser.get(f"{dashboard}/login/", timeout=5).text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page).group(1)
    browser.post(
        f"{dashboard}/login/",
        {"username": "demo", "password": "demo", "csrfmiddlewaretoken": csrf},
        timeout=5,
    )

    page = browser.get(f"{dashboard}/meetings/{seed.MEETINGS[0].id}/", timeout=5)

    sdk_url = f"http://127.0.0.1:{sandbox_port}/sandbox/sdk.js"
    assert f'data-sdk-url="{sdk_url}"' in page.text
    assert f"http://127.0.0.1:{sandbox_port}" in page.headers["Content-Security-Policy"]
    assert requests.get(sdk_url, timeout=5).status_code == 200
    # The demo's database outlives the sandbox, so each run's sessions need new ids.
    meetings = requests.get(f"http://127.0.0.1:{sandbox_port}/sandbox/meetings", timeout=5)
    live = next(m for m in meetings.json()["meetings"] if m["id"] == seed.MEETINGS[0].id)
    assert live["session"]["id"] != seed.MEETINGS[0].session.id


def test_demo_stops_when_the_sandbox_dies(running_demo):
    demo, _, dashboard_port = running_demo
    children = subprocess.run(
        ["pgrep", "-P", str(demo.pid)], capture_output=True, text=True, check=True
    ).stdout.split()

    for child in children:
        os.kill(int(child), signal.SIGKILL)
    output, _ = demo.communicate(timeout=20)

    assert "The sandbox stopped (exit status -9), so the dashboard stops too." in output
    assert "Traceback" not in output
    assert not port_is_open(dashboard_port)
