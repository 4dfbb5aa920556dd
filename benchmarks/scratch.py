"""A scratch database for a benchmark: created migrated on the configured server, dropped after;
and the demo town on it with years of history, as the council's benchmarks need it."""
from __future__ import annotations

import time
import uuid
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from geo_urp import settings
from geo_urp.accounts import create_api_key
from geo_urp.db import engine_for, init_db, session_scope
from geo_urp.loading.loader import load_municipality
from geo_urp.models import Municipality
from geo_urp.simulate.history import write_history


@contextmanager
def scratch_database() -> Iterator[str]:
    """Yield the URL of a new, migrated database made as the owner (DATABASE_ADMIN_URL or its default)."""
    server = make_url(settings.admin_database_url())
    name = f"geo_urp_bench_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        init_db(url)
        yield url
    finally:
        engine_for(url).dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def town_with_history(url: str, history: int, years: float) -> tuple[int, str, float]:
    """Mezzolombardo loaded on ``url`` with ``history`` past reports over ``years`` (``simulate
    --history``'s writer, seed 1) and a council key; its id, the key and the seconds the history
    took to write."""
    with session_scope(url) as s:
        load_municipality(s, "layers/mezzolombardo", "mezzolombardo", name="Mezzolombardo")
        mid = s.scalar(select(Municipality.id).where(Municipality.slug == "mezzolombardo"))
        key = create_api_key(s, "council", "mezzolombardo")
    t = time.perf_counter()
    with session_scope(url) as s:
        write_history(s, mid, history, years=years, seed=1)
    return mid, key, time.perf_counter() - t
