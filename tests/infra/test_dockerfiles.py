"""The images: hadolint finds nothing, bases are pinned, processes run as non-root.

What the fakes can't show: there is no Docker engine here, so the images are not built;
hadolint and these checks read the Dockerfiles. The install step they run (`uv sync
--frozen --no-dev --no-editable` from the filtered build context) is exercised for real in
test_image_install_step.py.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.infra.terraform_modules import ROOT

HADOLINT = ROOT / ".venv" / "bin" / "hadolint"
DOCKERFILES = [
    ROOT / "Dockerfile.runner",
    ROOT / "Dockerfile.controller",
    ROOT / "examples" / "runner-image" / "Dockerfile",
]


def locked_version(package: str) -> str:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return next(p["version"] for p in lock["package"] if p["name"] == package)


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def arg_default(dockerfile: Path, name: str) -> str:
    for keyword, rest in instructions(dockerfile):
        if keyword == "ARG" and rest.startswith(f"{name}="):
            return rest.split("=", 1)[1]
    raise AssertionError(f"no ARG {name} in {dockerfile.name}")


def stages(dockerfile: Path) -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for pair in instructions(dockerfile):
        if pair[0] == "FROM":
            found.append([])
        if found:
            found[-1].append(pair)
    return found


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_hadolint_finds_nothing(dockerfile: Path) -> None:
    # Default failure threshold plus info-level findings: a clean file prints nothing.
    result = subprocess.run(
        [str(HADOLINT), "--failure-threshold", "info", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES[:2], ids=lambda p: p.name)
def test_multi_stage_and_last_stage_runs_as_non_root(dockerfile: Path) -> None:
    all_stages = stages(dockerfile)
    assert len(all_stages) >= 3, "a build stage and a runtime stage at least"
    final = all_stages[-1]
    users = [rest for keyword, rest in final if keyword == "USER"]
    assert users and users[-1] not in ("root", "0"), users


def test_runner_image_matches_the_locked_playwright_and_runs_proctor_runner() -> None:
    dockerfile = ROOT / "Dockerfile.runner"
    base = arg_default(dockerfile, "PLAYWRIGHT_IMAGE")
    assert base == f"mcr.microsoft.com/playwright/python:v{locked_version('playwright')}-noble"
    final = stages(dockerfile)[-1]
    assert ("ENTRYPOINT", '["proctor", "runner"]') in final
    runs = " ".join(rest for keyword, rest in instructions(dockerfile) if keyword == "RUN")
    assert "uv sync --frozen --no-dev" in runs


def test_controller_image_pins_python_311_serves_both_commands_and_checks_healthz() -> None:
    dockerfile = ROOT / "Dockerfile.controller"
    base = arg_default(dockerfile, "PYTHON_IMAGE")
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base), base
    final = stages(dockerfile)[-1]
    assert ("ENTRYPOINT", '["proctor"]') in final
    assert ("CMD", '["api"]') in final
    healthcheck = next(rest for keyword, rest in final if keyword == "HEALTHCHECK")
    assert "/healthz" in healthcheck
    text = dockerfile.read_text()
    assert "chromium" in text and "uv sync --frozen --no-dev" in text
    lambda_stage = next(s for s in stages(dockerfile) if s[0][1].endswith("AS lambda"))
    assert ("CMD", '["api.lambda_handler.handler"]') in lambda_stage


def test_uv_image_matches_between_the_two_dockerfiles() -> None:
    runner = arg_default(ROOT / "Dockerfile.runner", "UV_IMAGE")
    controller = arg_default(ROOT / "Dockerfile.controller", "UV_IMAGE")
    assert runner == controller and re.fullmatch(r"ghcr\.io/astral-sh/uv:\d+\.\d+\.\d+", runner)


def test_dockerignore_keeps_local_state_out_of_the_images() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", ".proctor", "tests", "infra"} <= ignored
    # What the build needs must not be ignored.
    assert not {"pyproject.toml", "uv.lock", "README.md"} & ignored
