"""The README's first command on the embedded default (SQLite, local store, local launcher).

What fakes can't show: that a new user's one command — set-up, `proctor up`, the example
shop, `test-sets sync`, `run --all --wait` — ends with the example batch finished and a
summary naming both outcomes and where the reports are.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_quickstart_runs_the_example_batch(tmp_path: Path) -> None:
    env = {**os.environ, "PROCTOR_HOME": str(tmp_path / "home"), "PROCTOR_PORT": str(free_port())}
    env.pop("PROCTOR_DATABASE_URL", None)
    result = subprocess.run(
        ["bash", "scripts/quickstart.sh"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "storefront" in output and "PASSED" in output
    assert "checkout" in output and "FAILED" in output
    assert "1 of 2 test sets passed" in output
    assert "report: http://127.0.0.1:" in output
    assert (tmp_path / "home" / "proctor.db").is_file()
    assert list((tmp_path / "home" / "artifacts" / "runs").glob("*/attempt-1/cucumber.json"))
    assert (tmp_path / "home" / "quickstart-junit.xml").is_file()
