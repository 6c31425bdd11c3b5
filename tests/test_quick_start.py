"""The Makefile's setup step, run as `make demo` and `make test` run it."""

import subprocess

from tests.support import PROJECT_ROOT


def test_setup_names_pythons_it_tried(tmp_path):
    missing = tmp_path / "no-such-python"
    venv = tmp_path / "venv"

    result = subprocess.run(
        [
            "make",
            "--no-print-directory",
            f"VENV={venv}",
            f"PYTHON_CANDIDATES={missing}",
            f"{venv}/.installed",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert f"No Python 3.12 or newer found. Looked for: {missing}" in result.stderr
    assert not venv.exists()
