"""``python -m runner --run-id ID``: the runner without the CLI (same as ``proctor runner``)."""

from __future__ import annotations

import argparse
import sys

from config.settings import Settings
from config.tracing import configure_tracing, shutdown_tracing
from runner.main import main

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m runner")
    parser.add_argument("--run-id", required=True)
    run_id = parser.parse_args().run_id
    configure_tracing("proctor-runner")  # as `proctor runner` does
    try:
        code = main(run_id, Settings())
    finally:
        shutdown_tracing()  # flush the run's spans before the process ends
    sys.exit(code)
