"""A real ``reasonflow worker`` whose provider takes ``--delay`` seconds per email.

Run as ``python -m tests.e2e.slow_worker --concurrency N --delay S``: the
production wiring and worker loop, with only the classifier slowed, so a test
can kill a worker mid-job.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace

from reasonflow.entrypoints.bootstrap import build_adapters, wire
from reasonflow.entrypoints.logs import configure_logging
from reasonflow.entrypoints.settings import load_settings
from reasonflow.entrypoints.worker import check_cluster, run_worker
from tests.e2e.slow_app import SlowClassifier


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--delay", type=float, default=0.2)
    args = parser.parse_args()
    settings = load_settings()
    check_cluster(settings)
    configure_logging(settings.log_format, settings.log_level)
    adapters = replace(build_adapters(settings), classifier=SlowClassifier(args.delay))
    asyncio.run(run_worker(wire(adapters, settings), settings, args.concurrency))


if __name__ == "__main__":
    main()
