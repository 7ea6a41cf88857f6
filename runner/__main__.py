"""``python -m runner --run-id ID``: the runner without the CLI (same as ``proctor runner``)."""

from __future__ import annotations

import argparse
import sys

from config.settings import Settings
from runner.main import main

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m runner")
    parser.add_argument("--run-id", required=True)
    sys.exit(main(parser.parse_args().run_id, Settings()))
