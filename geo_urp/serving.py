"""The production server: gunicorn serving ``create_app()``, with the background worker beside it."""
from __future__ import annotations

import multiprocessing
import os

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from geo_urp import create_app

        return create_app()


def run_server(config: dict, host: str, port: int, workers: int, with_worker: bool = True) -> None:
    """Serve on ``host:port`` until stopped; the worker runs in a child process."""
    # Every gunicorn worker builds its own app: they must share one secret, or a
    # login made on one worker is unknown to the next. Without SECRET_KEY set, the
    # random one of this process is handed down through the environment.
    os.environ.setdefault("SECRET_KEY", config["SECRET_KEY"])
    child = None
    if with_worker:
        from geo_urp.acting.worker import run_forever

        child = multiprocessing.Process(target=run_forever, args=(dict(config),), daemon=True, name="geo_urp-worker")
        child.start()
    try:
        _Gunicorn({"bind": f"{host}:{port}", "workers": workers, "accesslog": "-",
                   "timeout": 60, "graceful_timeout": 10}).run()
    finally:
        if child is not None and child.is_alive():
            child.terminate()
