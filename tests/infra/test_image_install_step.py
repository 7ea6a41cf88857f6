"""The images' install step, run for real outside Docker.

What the fakes can't show: with no Docker engine here, the closest thing to building the
images is to do what their build stages do — take the build context as .dockerignore
filters it, `uv sync --frozen --no-dev --no-install-project`, then `uv sync --frozen
--no-dev --no-editable` — into a fresh virtualenv, and check that the installed `proctor`
(not the source tree) runs its migrations: the wheel must carry the Alembic revisions and
everything else the processes load at run time.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infra.terraform_modules import ROOT


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(relative: Path, patterns: list[str]) -> bool:
    parts = relative.parts
    for pattern in patterns:
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatch(part, pattern[3:]) for part in parts):
                return True
        elif any(
            fnmatch.fnmatch("/".join(parts[: index + 1]), pattern) for index in range(len(parts))
        ):
            return True
    return False


def copy_build_context(target: Path) -> None:
    patterns = dockerignore_patterns()
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for name in tracked:
        relative = Path(name)
        source = ROOT / relative
        if source.is_file() and not ignored(relative, patterns):
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)


def test_dockerignore_filter_reads_patterns_like_docker() -> None:
    patterns = ["**/__pycache__", ".venv", "Dockerfile.*", "tests"]
    assert ignored(Path("api/__pycache__/x.pyc"), patterns)
    assert ignored(Path(".venv/bin/python"), patterns)
    assert ignored(Path("Dockerfile.runner"), patterns)
    assert ignored(Path("tests/infra/test_x.py"), patterns)
    assert not ignored(Path("api/app.py"), patterns)
    assert not ignored(Path("uv.lock"), patterns)


@pytest.mark.timeout(600)
def test_locked_install_from_the_build_context_runs_migrations(tmp_path: Path) -> None:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed")
    context = tmp_path / "context"
    copy_build_context(context)
    assert not (context / "tests").exists() and (context / "uv.lock").is_file()

    venv = tmp_path / "opt-proctor"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("VIRTUAL_ENV", "PYTHONPATH", "UV_", "PROCTOR_"))
    }
    env.update(UV_PROJECT_ENVIRONMENT=str(venv), UV_PYTHON=sys.executable)
    for extra in (["--no-install-project"], ["--no-editable"]):
        subprocess.run(
            [uv, "sync", "--frozen", "--no-dev", *extra],
            cwd=context,
            env=env,
            check=True,
            capture_output=True,
            timeout=540,
        )

    # Run from elsewhere, so nothing is imported from the build context or the repo.
    workdir = tmp_path / "run"
    workdir.mkdir()
    shutil.rmtree(context)
    run_env = {**env, "PROCTOR_HOME": str(workdir / ".proctor")}
    database = workdir / "proctor.db"
    result = subprocess.run(
        [str(venv / "bin" / "proctor"), "db", "upgrade"],
        cwd=workdir,
        env={**run_env, "PROCTOR_DATABASE_URL": f"sqlite:///{database}"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert database.is_file()

    probe = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import api.lambda_handler, mangum, pathlib, migrations, reports;"
            "print(pathlib.Path(migrations.__file__).parent)",
        ],
        cwd=workdir,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    assert str(venv) in probe.stdout, "imported from the installed wheel, not the source tree"
