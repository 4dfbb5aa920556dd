"""The production server: gunicorn serving ``create_app()``, with the background worker beside it."""
from __future__ import annotations

import os
import subprocess
import sys

from gunicorn.app.base import BaseApplication

# One access log line per request: the path without its query string and no Referer, whose URLs
# may carry secrets (an api_key a client put there, which Open311 then refuses) or a caller's data.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'


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
    """Serve on ``host:port`` until stopped; the background work runs beside it as
    ``python -m geo_urp worker`` (a process of its own, not a fork: gunicorn forks its
    workers from this process, and they must not inherit a child to wait for)."""
    # Every gunicorn worker builds its own app: they must share one secret, or a
    # login made on one worker is unknown to the next. Without SECRET_KEY set, the
    # random one of this process is handed down through the environment.
    os.environ.setdefault("SECRET_KEY", config["SECRET_KEY"])
    child = None
    if with_worker:
        env = {**os.environ, "DATABASE_URL": config["DATABASE_URL"]}
        child = subprocess.Popen([sys.executable, "-m", "geo_urp", "worker"], env=env)
    master = os.getpid()
    try:
        _Gunicorn({"bind": f"{host}:{port}", "workers": workers, "accesslog": "-",
                   "access_log_format": ACCESS_LOG_FORMAT,
                   "timeout": 60, "graceful_timeout": 10}).run()
    finally:
        # gunicorn's workers leave ``run()`` by SystemExit too: only the master stops the child.
        if child is not None and os.getpid() == master and child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
