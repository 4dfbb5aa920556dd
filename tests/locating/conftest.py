"""The demo municipality's real layers, for the locating tests that need a whole town."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_urp.db import engine_for
from geo_urp.loading.loader import load_municipality

DEMO = Path(__file__).resolve().parents[2] / "layers" / "mezzolombardo"


@pytest.fixture(scope="module")
def demo(db_url):
    """Mezzolombardo loaded once for the module, in a transaction rolled back at the end."""
    if not (DEMO / "addresses.geojson").exists():
        pytest.skip("layers/mezzolombardo is not built yet")
    conn = engine_for(db_url).connect()
    outer = conn.begin()
    session = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    load_municipality(session, DEMO, "mezzolombardo-geocoder")
    mid = session.execute(text(
        "SELECT id FROM municipalities WHERE slug = 'mezzolombardo-geocoder'")).scalar_one()
    yield session, mid
    session.close()
    outer.rollback()
    conn.close()
