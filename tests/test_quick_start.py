"""The quick start: the Makefile's setup step, and the README's commands that cast votes."""

import re
import subprocess
import textwrap

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


def test_readme_vote_commands_cast_votes(sandbox):
    readme = (PROJECT_ROOT / "README.md").read_text()
    commands = re.search(
        r"```sh\n( *S=http://127\.0\.0\.1:8787/sandbox[^\n]*\n.*?) *```", readme, re.S
    )
    script = textwrap.dedent(commands.group(1)).replace("http://127.0.0.1:8787", sandbox.url)
    meeting_id = re.search(r"^M=(\S+)", script, re.M).group(1)
    sandbox.control(
        "POST", f"/meetings/{meeting_id}/polls", json={"question": "Old?", "options": ["A", "B"]}
    )
    newest = sandbox.control(
        "POST", f"/meetings/{meeting_id}/polls", json={"question": "New?", "options": ["A", "B"]}
    )["poll"]

    subprocess.run(["bash", "-c", script], check=True, capture_output=True, timeout=30)

    polls = {poll["id"]: poll for poll in sandbox.meeting(meeting_id)["polls"]}
    assert [option["count"] for option in polls[newest["id"]]["options"]] == [1, 1]
