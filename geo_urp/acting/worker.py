"""The background worker: runs scheduled jobs in a loop until stopped.

Jobs register in ``JOBS``; each takes the app config and does one pass: the delivery of
the outbox of closing messages (``acting.outbox.deliver``) and the erasure of callers'
contact data once it is no longer needed (``acting.erasure.erase_due``), and the council's
hexagon counts kept up to date (``acting.hotspot_counts.refresh_kept``), and its trend counts
(``acting.trend_counts.refresh_all``), and the partitions of ``reports`` made ahead
(``acting.partitions.make_ahead``).
"""
from __future__ import annotations

import logging
import signal
import time
from typing import Callable

from geo_urp import logs
from geo_urp.acting import erasure, hotspot_counts, outbox, partitions, trend_counts

log = logging.getLogger(__name__)

JOBS: list[Callable[[dict], object]] = [outbox.deliver, erasure.erase_due, hotspot_counts.refresh_kept,
                                        trend_counts.refresh_all, partitions.make_ahead]


def run_once(config: dict) -> None:
    """One pass over every job; a failing job is logged and does not stop the others."""
    for job in JOBS:
        try:
            job(config)
        except Exception:  # keep the worker alive whatever one job does
            log.exception("job %s failed", job.__name__)


def run_forever(config: dict, interval_s: float = 5.0) -> None:
    """Run every job each ``interval_s`` seconds until SIGTERM/SIGINT, logging as ``LOG_FORMAT`` says."""
    logs.setup(config.get("LOG_FORMAT", "text"), config.get("LOG_LEVEL", "INFO"))
    stop = False

    def _stop(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("worker started with %d job(s)", len(JOBS))
    while not stop:
        run_once(config)
        time.sleep(interval_s)
