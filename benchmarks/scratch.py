"""A scratch database for a benchmark: created migrated on the configured server, dropped after."""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from geo_urp import settings
from geo_urp.db import engine_for, init_db


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
