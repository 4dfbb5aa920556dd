"""Calls taken while a town's layers are being replaced wait, and land on the new layers.

Real threads on a committed database: the reload holds the town's lock for a
while (before or after replacing the layers), two calls arrive meanwhile.
"""
from __future__ import annotations

import threading
import time

import pytest
from pyproj import Transformer
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_urp import locks
from geo_urp.accounts import create_api_key
from geo_urp.acting.calls import take_call
from geo_urp.acting.layers import load_layers
from geo_urp.db import engine_for
from geo_urp.loading.loader import load_municipality
from geo_urp.models import Incident, IncidentReport, Municipality, Report
from tests.conftest import BORGO
from tests.reasoning.borgo_variants import borgo_copy, renamed

_WGS = Transformer.from_crs(32632, 4326, always_xy=True)


def _latlong(x: float, y: float) -> dict:
    lon, lat = _WGS.transform(x, y)
    return {"lat": f"{lat:.7f}", "long": f"{lon:.7f}"}


@pytest.mark.parametrize("hold", ["before the load", "after the load"])
def test_calls_during_a_reload_wait_and_land_on_the_new_layers(fresh_db_url, tmp_path, hold):
    engine = engine_for(fresh_db_url)
    with Session(engine) as s:
        load_municipality(s, BORGO, "borgo")
        key = create_api_key(s, "operator", "borgo")
        s.commit()
    folder = borgo_copy(tmp_path / "new", {"lamps": renamed("N", "lamp_id", "circuit_id"),
                                          "water_pipes": renamed("W", "pipe_id")})
    holding, out = threading.Event(), {}

    def reload():
        with Session(engine) as s:
            if hold == "before the load":   # the lock first, the layers' rows later
                locks.lock_municipality(s, s.scalar(select(Municipality.id).where(Municipality.slug == "borgo")))
                holding.set()
                time.sleep(1.5)
                load_layers(s, folder, "borgo")
            else:                            # the new layers written, not yet committed
                load_layers(s, folder, "borgo")
                holding.set()
                time.sleep(1.5)
            s.commit()

    def caller(name, fields):
        holding.wait()
        time.sleep(0.2)
        with Session(engine) as s:
            try:
                out[name] = take_call(s, key, fields).report.id
                s.commit()
            except Exception as exc:  # noqa: BLE001 - the test reports what went wrong
                s.rollback()
                out[name] = repr(exc)

    threads = [threading.Thread(target=reload),
               threading.Thread(target=caller, args=("lamp", {"service_code": "streetlight_out",
                                                              **_latlong(660152, 5118507)})),
               threading.Thread(target=caller, args=("leak", {"service_code": "water_leak",
                                                              **_latlong(660503, 5118380)}))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert all(isinstance(v, int) for v in out.values()) and len(out) == 2, out
        with Session(engine) as s:
            lamp, leak = s.get(Report, out["lamp"]), s.get(Report, out["leak"])
            assert (lamp.lamp_id, lamp.circuit_id, leak.pipe_id) == ("NL01", "NC1", "WP4")
            incidents = [s.get(Incident, s.get(IncidentReport, r.id).incident_id) for r in (lamp, leak)]
            assert [i.asset_ids[0] for i in incidents] == ["NL01", "WP4"]
    finally:
        engine.dispose()
