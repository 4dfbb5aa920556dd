"""Polling GET /api/incidents with ``since``: nothing missed, and what leaves a filter is said so."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from geo_urp.db import engine_for
from tests.showing.open311_support import latlong, post


def _poll(client, key, **params) -> dict:
    resp = client.get("/api/incidents", query_string=params, headers={"X-API-Key": key})
    assert resp.status_code == 200, resp.data
    return resp.json


def _call(client, key, code, where) -> str:
    resp = post(client, key, service_code=code, **latlong(*where))
    assert resp.status_code == 201, resp.data
    return resp.json[0]["service_request_id"]


def test_a_change_committed_after_a_poll_read_past_it_comes_with_the_next_poll(borgo_db_url, borgo_client,
                                                                                borgo_keys):
    op = borgo_keys["operator"]
    _call(borgo_client, op, "road_damage", (200, 700))
    first = _poll(borgo_client, op)
    (pothole,) = first["features"]
    # A long transaction (a recomputation, a reload) changes the pothole and has not committed yet...
    conn = engine_for(borgo_db_url).connect()
    long_tx = conn.begin()
    conn.execute(text("UPDATE incidents SET priority = 1, updated_at = now() WHERE id = :i"), {"i": pothole["id"]})
    # ...while a call comes in and commits, and a poller reads.
    _call(borgo_client, op, "noise", (800, 200))
    second = _poll(borgo_client, op, since=first["next_since"])
    # exactly what committed since the first poll: the noise call, not the pothole still changing
    assert [f["properties"]["kind"] for f in second["features"]] == ["noise"]
    long_tx.commit()
    conn.close()
    # Its time of change is before the second poll, yet the cursor brings it.
    third = _poll(borgo_client, op, since=second["next_since"])
    got = {f["id"]: f["properties"] for f in third["features"]}
    assert got[pothole["id"]]["priority"] == 1


def test_an_incident_that_leaves_a_pollers_filter_comes_as_removed(borgo_client, borgo_keys):
    op = borgo_keys["operator"]
    _call(borgo_client, op, "no_water", (690, 455))
    outages = _poll(borgo_client, op, kind="water_outage")
    (outage,) = outages["features"]
    _call(borgo_client, op, "water_leak", (503, 380))                 # the outage becomes a burst
    changed = _poll(borgo_client, op, kind="water_outage", since=outages["next_since"])["features"]
    # the outage is gone from this filter (upgraded or absorbed by the burst: either way, removed)
    assert outage["id"] in {f["id"] for f in changed}
    assert all(f["geometry"] is None and f["properties"] == {"id": f["id"], "removed": True} for f in changed)
    bursts = _poll(borgo_client, op, kind="water_main_burst", since=outages["next_since"])["features"]
    assert [f["properties"]["kind"] for f in bursts if "removed" not in f["properties"]] == ["water_main_burst"]


def test_a_poller_of_one_kind_hears_nothing_of_incidents_never_of_that_kind(borgo_client, borgo_keys):
    op = borgo_keys["operator"]
    _call(borgo_client, op, "road_damage", (200, 700))
    potholes = _poll(borgo_client, op, kind="road_damage")
    (pothole,) = potholes["features"]
    _call(borgo_client, op, "noise", (800, 200))                      # other kinds change...
    _call(borgo_client, op, "no_water", (690, 455))
    _call(borgo_client, op, "water_leak", (503, 380))
    # (a transaction still running elsewhere on the server may bring the pothole again: nothing else)
    heard = _poll(borgo_client, op, kind="road_damage", since=potholes["next_since"])["features"]
    assert {f["id"] for f in heard} <= {pothole["id"]}
    _call(borgo_client, op, "road_damage", (205, 705))                # ...and its own still come
    changed = _poll(borgo_client, op, kind="road_damage", since=potholes["next_since"])["features"]
    assert [f["properties"]["kind"] for f in changed] == ["road_damage"]


@pytest.mark.parametrize("since", ["changes:abc", "changes:1-²", "changes:٣-4", "changes:1-2,", "xid:123",
                                   "2026-11-28T22:00:00", "ieri"])
def test_a_malformed_cursor_or_a_time_without_offset_is_refused(shared_client, borgo_keys, since):
    resp = shared_client.get("/api/incidents", query_string={"since": since},
                             headers={"X-API-Key": borgo_keys["operator"]})
    assert resp.status_code == 400 and "next_since" in resp.get_data(as_text=True)


def test_a_time_with_any_offset_python_reads_is_taken(shared_client, borgo_keys):
    resp = shared_client.get("/api/incidents", query_string={"since": "2026-11-28T22:00:00+23:30"},
                             headers={"X-API-Key": borgo_keys["operator"]})   # PostgreSQL refuses +23:30 itself
    assert resp.status_code == 200 and resp.json["type"] == "FeatureCollection"


def test_a_crew_hears_of_removals_only_for_its_own_incidents(borgo_client, borgo_keys):
    op, crew = borgo_keys["operator"], borgo_keys["crew"]             # the ACQUA crew of Borgo
    start = _poll(borgo_client, crew)["next_since"]
    _call(borgo_client, op, "no_water", (690, 455))                   # an outage: ACQUA's
    _call(borgo_client, op, "road_damage", (200, 700))                # a pothole: STRADE's
    (outage,) = _poll(borgo_client, crew, since=start)["features"]
    assert outage["properties"]["kind"] == "water_outage"
    again = _poll(borgo_client, crew)["next_since"]
    _call(borgo_client, op, "water_leak", (503, 380))                 # the outage goes into a burst
    _call(borgo_client, op, "road_damage", (205, 705))                # the pothole grows
    changed = {f["id"]: f["properties"] for f in _poll(borgo_client, crew, since=again)["features"]}
    assert changed[outage["id"]] == {"id": outage["id"], "removed": True} or changed[outage["id"]]["crew_id"] == "ACQUA"
    assert all(p.get("removed") or p["crew_id"] == "ACQUA" for p in changed.values())
    potholes = {f["id"] for f in _poll(borgo_client, op)["features"]
                if f["properties"]["kind"] == "road_damage"}
    assert potholes and not potholes & set(changed)                   # not a word of STRADE's work


def test_the_council_hears_that_a_merged_pattern_of_noise_is_gone(borgo_client, borgo_keys):
    op, council = borgo_keys["operator"], borgo_keys["council"]
    for x in (100, 800):                                              # two noisy spots, three calls each
        for n in range(3):
            _call(borgo_client, op, "noise", (x + 4 * n, 200))
    shown = _poll(borgo_client, council)
    assert sorted(f["properties"]["report_count"] for f in shown["features"]) == [3, 3]
    first, second = sorted(f["id"] for f in shown["features"])
    resp = borgo_client.post("/api/incidents/merge", json={"ids": [first, second]}, headers={"X-API-Key": op})
    assert resp.status_code == 200, resp.data
    changed = {f["id"]: f["properties"]
               for f in _poll(borgo_client, council, since=shown["next_since"])["features"]}
    kept = resp.json["id"]
    gone = second if kept == first else first
    assert changed[gone] == {"id": gone, "removed": True} and changed[kept]["report_count"] == 6


def test_a_cursor_ahead_of_the_database_is_refused(borgo_client, borgo_keys):
    """Numbers this database never gave (it was restored from an older backup, say): the poller
    must read afresh, or it would miss every change until the town's number passes its cursor."""
    op = borgo_keys["operator"]
    _call(borgo_client, op, "road_damage", (200, 700))
    now = _poll(borgo_client, op)["next_since"]
    assert _poll(borgo_client, op, since=now)["features"] == []  # its own cursor is fine
    ahead = "changes:" + ",".join(f"{town}-{int(n) + 1}" for town, n in
                                  (pair.split("-") for pair in now.removeprefix("changes:").split(",")))
    resp = borgo_client.get("/api/incidents", query_string={"since": ahead}, headers={"X-API-Key": op})
    assert resp.status_code == 400 and "since" in resp.get_data(as_text=True), resp.data
