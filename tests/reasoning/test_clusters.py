"""Space-time clusters (``reasoning/clusters.py``) on the Borgo fixture: flooding, road damage and
the other services without a network, and street-light or water calls snapped to no lamp or main."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from geo_urp.reasoning import grouping
from geo_urp.reasoning.rules import rules_for
from tests.conftest import report_row
from tests.reasoning.conftest import T0, open_incidents, report_ids
from tests.explained import in_english


def _lamp_xy(session, mid, lamp):
    return tuple(session.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM lamps WHERE municipality_id = :m "
                                      "AND lamp_id = :l"), {"m": mid, "l": lamp}).one())


def test_flooding_clusters_and_never_becomes_a_burst(session, borgo, call):
    incs = [call("flooding", m, at=(480 + d, 310 + d))[1] for m, d in ((0, 0), (30, 40), (60, 90))]
    assert len({i.id for i in incs}) == 1 and incs[0].kind == "flooding"
    _, far = call("flooding", 70, at=(100, 900))
    assert far.id != incs[0].id
    _, late = call("flooding", 60 * 8, at=(480, 310))
    assert late.id != incs[0].id
    kinds = {i.kind for i in open_incidents(session, borgo)}
    assert kinds == {"flooding"}
    assert incs[0].crew_id == "STRADE"


def test_a_call_bridging_two_clusters_merges_them(session, borgo, call):
    _, a = call("road_damage", 0, at=(100, 500))
    _, b = call("road_damage", 10, at=(150, 500))
    assert a.id != b.id
    _, c = call("road_damage", 20, at=(125, 500))
    assert c.id == a.id and len(open_incidents(session, borgo)) == 1


def test_water_calls_far_from_any_main_are_a_water_problem_for_the_water_crew(session, borgo, call):
    # No pipe snapped (the main is farther than SNAP_PIPE_MAX_M): the calls still go to water.
    first, inc = call("no_water", 0, at=(40, 960))
    second, again = call("low_pressure", 20, at=(90, 980))
    assert again.id == inc.id and report_ids(session, inc) == {first.id, second.id}
    assert inc.kind == "water_outage" and inc.asset_ids == [] and inc.affected_segment_nos == []
    assert "la causa non è ancora localizzata" in inc.explanation and "not located yet" in in_english(inc)
    assert (inc.area_id, inc.crew_id) == ("A1", "ACQUA")
    # A leak call on a real main elsewhere makes its own burst; the unlocated cluster stays apart.
    _, burst = call("water_leak", 30, pipe="P4")
    assert burst.kind == "water_main_burst" and burst.id != inc.id


def test_a_street_light_call_far_from_any_lamp_still_gets_an_incident(session, borgo, call):
    _, inc = call("streetlight_out", 0, at=(900, 900))
    assert inc.kind == "lamp" and inc.asset_ids == []


def test_a_street_light_call_with_no_lamp_does_not_join_a_lamp_incident(session, borgo, call):
    _, lamp = call("streetlight_out", 0, lamp="L01")
    x, y = _lamp_xy(session, borgo, "L01")
    _, loose = call("streetlight_out", 5, at=(x + 10, y + 10))   # same spot, but no lamp snapped
    assert loose.id != lamp.id and loose.kind == "lamp" and loose.asset_ids == []
    assert lamp.asset_ids == ["L01"] and len(report_ids(session, lamp)) == 1
    assert loose.area_id == lamp.area_id == "A1" and loose.crew_id == "LUCI-O"  # placed by its own point


def test_an_unlocated_water_call_does_not_join_a_located_outage(session, borgo, call):
    _, located = call("no_water", 0, pipe="P6", at=(690, 455))
    _, loose = call("no_water", 10, at=(695, 460))              # no main snapped
    assert loose.id != located.id and loose.affected_segment_nos == [] and located.affected_segment_nos == [5]


def _summary_of_rows(rows):
    """The cluster summary worked out in Python from ``grouping.reports_of``'s rows (oldest first)."""
    from geo_urp.reasoning.clusters import Summary

    return Summary(len(rows), rows[0].requested_datetime, rows[-1].requested_datetime,
                   tuple(dict.fromkeys(r.street_name for r in rows if r.street_name)))


def test_a_cluster_is_described_by_the_summary_of_all_its_calls(session, borgo, call):
    # The calls are summed up in SQL (count, first and last time, each street once in the order of
    # its first call); it must agree with the summary of the rows, and the sentence must speak of
    # every call.
    from geo_urp.reasoning import clusters

    streets = session.execute(text("SELECT street_id, name FROM streets WHERE municipality_id = :m "
                                   "ORDER BY name DESC LIMIT 4"), {"m": borgo}).all()
    assert len(streets) == 4
    # By time; streets 0 and 1 first come in the same minute: the call stored first counts first.
    order = [3, 0, 1, 3, None, 0, 2]
    minutes = [0, 5, 5, 12, 14, 20, 20]
    for n, (s, m) in enumerate(zip(order, minutes)):
        report, inc = call("flooding", m, at=(300 + 10 * n, 300), street=None if s is None else streets[s][0])
    calls = clusters.summaries(session, [inc])[inc.id]
    assert calls == _summary_of_rows(grouping.reports_of(session, inc))
    assert calls == (7, T0, T0 + timedelta(minutes=20), tuple(streets[i][1] for i in (3, 0, 1, 2)))
    assert inc.explanation.startswith(
        f"7 chiamate in 20 minuti in {streets[3][1]}, {streets[0][1]} e altre 2 vie per allagamento")
    assert in_english(inc).startswith(
        f"7 calls in 20 minutes in {streets[3][1]}, {streets[0][1]} and 2 more streets about flooding")
    # One more call, stored and then grouped: the summary follows.
    t = T0 + timedelta(minutes=30)
    more = report_row(borgo, (310, 300), t, service_code="flooding", street_id=streets[1][0])
    session.add(more)
    session.flush()
    session.refresh(more)
    inc = clusters.handle(session, more, rules_for(None))
    got = clusters.summaries(session, [inc])[inc.id]
    assert got == _summary_of_rows(grouping.reports_of(session, inc))
    assert got == (8, T0, t, calls.streets)


def test_a_clusters_shape_is_the_widened_hull_of_its_calls_and_grows_only_with_calls_beyond_it(
        session, borgo, call):
    from geo_urp.reasoning.clusters import WIDEN_M

    def shape(inc):
        return session.scalar(text("SELECT ST_AsEWKB(geom) FROM incidents WHERE id = :i"), {"i": inc.id})

    def hull(inc):
        return session.scalar(text(
            "SELECT ST_AsEWKB(ST_Buffer(ST_ConvexHull(ST_Collect(r.geom)), :w)) FROM reports r "
            "JOIN incident_reports ir ON ir.report_id = r.id WHERE ir.incident_id = :i"), {"i": inc.id, "w": WIDEN_M})

    for n, (x, y) in enumerate([(200, 200), (300, 200), (300, 300), (200, 300)]):
        _, inc = call("flooding", n, at=(x, y))
    square = shape(inc)
    assert square == hull(inc)
    for n, (x, y) in enumerate([(250, 250), (220, 280), (300, 200)]):  # inside; the last on a corner
        _, inc = call("flooding", 10 + n, at=(x, y))
        assert shape(inc) == square
    _, inc = call("flooding", 22, at=(310, 250))  # beyond the hull, inside the widening: it grows
    assert shape(inc) != square and shape(inc) == hull(inc)
    assert session.scalar(text("SELECT ST_Area(geom) > ST_Area(ST_GeomFromEWKB(:s)) FROM incidents WHERE id = :i"),
                          {"s": square, "i": inc.id})
    assert len(report_ids(session, inc)) == 8 and len(open_incidents(session, borgo)) == 1


def test_a_call_bridging_two_clusters_merges_them_and_the_incident_is_as_stored(session, borgo, call):
    from geo_urp.reasoning import clusters
    from geo_urp.reasoning.rules import rules_for

    call("road_damage", 0, at=(100, 500))
    call("road_damage", 10, at=(150, 500))
    report, alone = call("road_damage", 15, at=(600, 900))  # a cluster of its own, for the bridge below to leave alone
    # Created when nothing was near: as stored, and told in its history.
    row = session.execute(text("SELECT kind, status, opened_at, updated_at, asset_ids FROM incidents WHERE id = :i"),
                          {"i": alone.id}).one()
    assert tuple(row) == ("road_damage", "open", report.requested_datetime, alone.updated_at, [])
    assert (alone.kind, alone.status, alone.opened_at, alone.asset_ids) == tuple(row[:3]) + ([],)
    actions = session.scalars(text("SELECT action FROM incident_events WHERE incident_id = :i ORDER BY id"),
                              {"i": alone.id}).all()
    assert actions[:2] == ["created", "call joined"]
    assert session.scalar(text("SELECT incident_id FROM incident_reports WHERE report_id = :r"),
                          {"r": report.id}) == alone.id
    bridge = report_row(borgo, (125, 500), report.requested_datetime, service_code="road_damage")
    session.add(bridge)
    session.flush()
    session.refresh(bridge)
    inc = clusters.handle(session, bridge, rules_for(None))
    session.flush()
    calls = clusters.summaries(session, [inc])[inc.id]
    assert calls == _summary_of_rows(grouping.reports_of(session, inc))
    assert calls.count == 3 and calls.last == bridge.requested_datetime
    stored = session.execute(text("SELECT opened_at, updated_at, ST_AsText(geom) FROM incidents WHERE id = :i"),
                             {"i": inc.id}).one()
    assert (inc.opened_at, inc.updated_at) == tuple(stored[:2])
    assert session.scalar(text("SELECT ST_AsText(:g)"), {"g": inc.geom.desc}) == stored[2]
    assert not session.dirty and len(open_incidents(session, borgo)) == 2
