"""Commands that run the service: the production server (``serve``) and the background work
(``worker``)."""
from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import with_appcontext


def _usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@click.command("serve")
@with_appcontext
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000, type=int)
@click.option("--workers", default=lambda: _usable_cpus() + 1, type=int, show_default="cores + 1",
              help="gunicorn worker processes: one more than the cores this process may use, as a worker "
                   "waiting on PostgreSQL leaves its core to another. Each holds its own PostgreSQL "
                   "connections (one at a time).")
@click.option("--no-worker", is_flag=True, help="Do not run the background work in this process.")
def serve(host: str, port: int, workers: int, no_worker: bool) -> None:
    """Run the production server (gunicorn) and, unless --no-worker, the background work."""
    from geo_urp.serving import run_server

    run_server(current_app.config, host, port, workers, with_worker=not no_worker)


@click.command("worker")
@with_appcontext
def worker() -> None:
    """Run the background work alone."""
    from geo_urp.acting.worker import run_forever

    run_forever(current_app.config)
