"""Fixtures for the sandbox's own tests; the shared sandbox process comes from tests/conftest.py."""

from pathlib import Path

import pytest
import requests

from sandbox import seed
from tests.support import start_sandbox, stop_sandbox

KIT_PATH = f"/client/v4/accounts/{seed.ACCOUNT_ID}/realtime/kit/{seed.APP_ID}"


@pytest.fixture
def sandbox_url(sandbox_server: str) -> str:
    """Reset the sandbox to its seed and return its base URL."""
    response = requests.post(f"{sandbox_server}/sandbox/reset", timeout=5)
    response.raise_for_status()
    return sandbox_server


@pytest.fixture
def kit_url(sandbox_url: str) -> str:
    """Base URL of the seeded app's RealtimeKit endpoints."""
    return sandbox_url + KIT_PATH


@pytest.fixture
def launch_sandbox(tmp_path: Path):
    """Return a function that starts an extra sandbox process, stopped after the test.

    The function takes extra CLI arguments and an extra_env mapping, and returns the process,
    its base URL and the path of its stderr log.
    """
    processes = []

    def launch(*args: str, extra_env: dict[str, str] | None = None):
        log_path = tmp_path / f"sandbox-{len(processes)}.log"
        process, url = start_sandbox(log_path, *args, extra_env=extra_env)
        processes.append(process)
        return process, url, log_path

    yield launch
    for process in processes:
        stop_sandbox(process)
