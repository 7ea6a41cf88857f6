"""Helpers shared by the controller's tests: seeding runs and a stand-in runner.

The stand-in is a tiny shell script with the runner's contract (environment in, artifacts
to ``runs/{id}/attempt-{n}/``, exit code out) so controller tests do not need Chromium;
the lead's end-to-end test runs the real ``proctor runner``.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select

from db.engine import utcnow
from db.tables import run_events, test_runs, test_sets

# $1 = run id. Appends "run attempt" to $LAUNCHES (to count launches), reads
# "$OUTCOMES/$1.$attempt" ("exit-code seconds-to-sleep [report]"), writes cucumber.json
# into the file:// artifact store unless told "noreport", then exits with the code.
STANDIN = r"""
set -u
run="$1"
attempt="$PROCTOR_ATTEMPT"
echo "$run $attempt $$" >> "$LAUNCHES"
env > "$(dirname "$LAUNCHES")/env.$run.$attempt"
code=0; pause=0; report=yes
if [ -f "$OUTCOMES/$run.$attempt" ]; then read code pause report < "$OUTCOMES/$run.$attempt"; fi
trap 'exit 3' TERM
if [ "$pause" != "0" ]; then sleep "$pause" & wait $!; fi
root="${PROCTOR_ARTIFACTS_URL#file://}"
dir="$root/runs/$run/attempt-$attempt"
mkdir -p "$dir/screenshots"
if [ "${report:-yes}" != "noreport" ]; then
  if [ "$code" = "0" ]; then status=passed; else status=failed; fi
  scenario='{"type":"scenario","name":"s","steps":[{"name":"x","result":{"status":"%s"}}]}'
  printf "[{\"name\":\"f\",\"uri\":\"f.feature\",\"elements\":[$scenario]}]" "$status" \
    > "$dir/cucumber.json"
  printf 'png' > "$dir/screenshots/one.png"
fi
exit "$code"
"""


def standin_command(script_dir: Path) -> Any:
    script = script_dir / "standin.sh"
    if not script.exists() or script.read_text() != STANDIN:
        tmp = script_dir / f".standin.{os.getpid()}"
        tmp.write_text(STANDIN)
        tmp.replace(script)  # atomic: a runner reading the script never sees half of it

    def command(run_id: str) -> list[str]:
        return ["/bin/sh", str(script), run_id]

    return command


def set_outcome(
    outcomes: Path, run_id: str, attempt: int, code: int, pause: float = 0, report: str = "yes"
) -> None:
    outcomes.mkdir(parents=True, exist_ok=True)
    (outcomes / f"{run_id}.{attempt}").write_text(f"{code} {pause} {report}\n")


def seed(
    engine: Engine,
    count: int,
    *,
    test_set: str = "checkout",
    timeout_seconds: int | None = None,
    retry_on_failure: bool = False,
    max_attempts: int = 2,
    priority: int = 0,
    trace_context: dict[str, str] | None = None,
) -> list[str]:
    """A test set (if new) and ``count`` pending runs, oldest first."""
    now = utcnow()
    with engine.begin() as conn:
        exists = conn.execute(select(test_sets.c.id).where(test_sets.c.id == test_set)).first()
        if not exists:
            conn.execute(
                insert(test_sets).values(
                    id=test_set,
                    name=test_set,
                    description="",
                    features=[],
                    base_url="",
                    tags=[],
                    timeout_seconds=timeout_seconds,
                    max_attempts=max_attempts,
                    enabled=True,
                    retry_on_failure=retry_on_failure,
                    created_at=now,
                    updated_at=now,
                )
            )
        ids = [str(uuid.uuid4()) for _ in range(count)]
        if ids:
            conn.execute(
                insert(test_runs),
                [
                    {
                        "id": run_id,
                        "test_set_id": test_set,
                        "desired": "run",
                        "priority": priority,
                        "parameters": {},
                        "max_attempts": max_attempts,
                        "created_at": now + timedelta(microseconds=i),
                        "status": "pending",
                        "attempt": 0,
                        "updated_at": now,
                        "trace_context": trace_context,
                    }
                    for i, run_id in enumerate(ids)
                ],
            )
    return ids


def run_row(engine: Engine, run_id: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(test_runs).where(test_runs.c.id == run_id)).one()


def events(engine: Engine, run_id: str) -> list[tuple[str | None, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(run_events.c.from_status, run_events.c.to_status, run_events.c.reason)
            .where(run_events.c.run_id == run_id)
            .order_by(run_events.c.id)
        )
        return [(r.from_status, r.to_status, r.reason) for r in rows]


def launches(path: Path) -> list[tuple[str, int]]:
    if not path.exists():
        return []
    found = []
    for line in path.read_text().splitlines():
        run_id, attempt, _pid = line.split()
        found.append((run_id, int(attempt)))
    return found


def dump(obj: Any) -> str:
    return json.dumps(obj, default=str)


def _crash_hook(spec: str, marks: Path) -> Any:
    """``after_claim=ID,ID;after_launch=ID``: die like kill -9 at that point for that run.

    Each (point, run) crashes once in the whole fleet (a marker file made with O_EXCL), so
    the controller that takes over the run afterwards gets through.
    """
    marks.mkdir(parents=True, exist_ok=True)
    wanted: dict[str, set[str]] = {}
    for part in filter(None, spec.split(";")):
        point, ids = part.split("=")
        wanted[point] = set(filter(None, ids.split(",")))

    def hook(point: str, run_id: str) -> None:
        if run_id not in wanted.get(point, set()):
            return
        try:
            os.close(os.open(marks / f"{point}.{run_id}", os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return
        print(f"crash injected at {point} for {run_id}", file=sys.stderr, flush=True)
        os._exit(137)

    return hook if wanted else None


def controller_main() -> None:
    """A controller process as a test starts it: settings from PROCTOR_*, runs until SIGTERM.

    ``STANDIN_DIR`` makes the local launcher spawn the stand-in runner; ``CRASH_POINTS``
    injects crashes between claim and launch and between launch and recording.
    """
    from artifacts.store import open_store
    from config.settings import Settings
    from controller.local import LocalLauncher
    from controller.service import Controller
    from db.engine import make_engine

    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "WARNING"),
        format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s",
    )
    settings = Settings()
    engine = make_engine(settings.database_url)
    launcher = None
    if settings.launcher == "local" and os.environ.get("STANDIN_DIR"):
        launcher = LocalLauncher(
            settings.home, command=standin_command(Path(os.environ["STANDIN_DIR"]))
        )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    controller = Controller(
        settings,
        engine,
        open_store(settings.artifacts_url),
        launcher,
        faults=_crash_hook(os.environ.get("CRASH_POINTS", ""), settings.home),
    )
    print("ready", flush=True)
    if os.environ.get("PROFILE_DIR"):
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
        controller.run_forever(stop)
        profile.disable()
        profile.dump_stats(Path(os.environ["PROFILE_DIR"]) / f"controller-{os.getpid()}.prof")
    else:
        controller.run_forever(stop)
    engine.dispose()


if __name__ == "__main__":
    controller_main()
