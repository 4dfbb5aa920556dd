"""``reading.trends``: planted counts per week and month come out exactly, times to resolve within the
buckets' resolution, the SLA share exactly; groups under k are suppressed in the output itself; nothing
of a report or a caller leaves; answers follow new reports; a bad question names its parameter."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, box

from geo_urp.errors import BadInput
from geo_urp.models import METRIC_SRID, CallerContact, District
from geo_urp.reading import trends
from geo_urp.reading.privacy import COUNCIL_MIN_REPORTS
from tests.conftest import BORGO_ORIGIN, report_row

TODAY = date(2026, 12, 3)
SECRET = "anziana sola al secondo piano"
PHONE = "+39 333 1234567"
WEST, EAST = (100, 100), (900, 900)  # in crew areas A1 and A2 of Borgo


def _report(mid, at, when, hours=None, due_h=24, **fields):
    """A road_damage report made ``when``, closed ``hours`` later (None: still open), due ``due_h`` after."""
    closed = hours is not None
    return report_row(mid, at, when, service_code="road_damage", description=SECRET, status_notes=SECRET,
                      status="closed" if closed else "open",
                      updated_datetime=when + timedelta(hours=hours) if closed else when,
                      expected_datetime=when + timedelta(hours=due_h), **fields)


def _plant(session, mid):
    """March: 5 reports in ISO week 10, 2 in week 11 (all west, closed); April: 4 east, one still open;
    May: one report alone; June: two east (so that May's one cannot be worked out from the others)."""
    rows = [_report(mid, WEST, datetime(2026, 3, 3, 9, tzinfo=timezone.utc), h) for h in (1, 2, 3, 4, 50)]
    rows += [_report(mid, WEST, datetime(2026, 3, 10, 9, tzinfo=timezone.utc), h) for h in (10, 20)]
    rows += [_report(mid, EAST, datetime(2026, 4, 14, 9, tzinfo=timezone.utc), h) for h in (5, 6, 30, None)]
    rows.append(_report(mid, EAST, datetime(2026, 5, 5, 9, tzinfo=timezone.utc), 2))
    rows += [_report(mid, EAST, datetime(2026, 6, 9, 9, tzinfo=timezone.utc), 2) for _ in range(2)]
    rows[0].contact = CallerContact(first_name="Maria", last_name="Rossi", phone=PHONE, email="maria@example.org")
    session.add_all(rows)
    session.flush()


def _answer(session, **args):
    query = {"service_code": "road_damage", "from": "2026-01", "to": "2026-06", **args}
    return trends.trends(session, trends.ask(session, query, None, today=TODAY))


def _within_a_bucket(figure: float, truth: float) -> bool:
    return truth / trends.BUCKET_RATIO <= figure <= truth * trends.BUCKET_RATIO


def test_planted_counts_times_and_sla_come_out(session, borgo):
    _plant(session, borgo)
    answer = _answer(session)
    weekly = {w["week"]: w for w in answer["weekly"]}
    assert weekly["2026-W10"]["count"] == 5
    assert weekly["2026-W16"]["count"] == 4
    assert weekly["2026-W11"] == {"week": "2026-W11", "service_code": "road_damage", "count": None, "suppressed": True}
    assert weekly["2026-W19"]["suppressed"] and weekly["2026-W01"]["suppressed"]  # one report; none
    march = next(m for m in answer["monthly"] if m["month"] == "2026-03")
    assert (march["count"], march["closed"]) == (7, 7)
    assert _within_a_bucket(march["median_hours"], 4) and _within_a_bucket(march["p90_hours"], 50)
    assert march["sla_share"] == round(6 / 7, 3)  # the 50-hour one was late against 24 hours
    april = next(m for m in answer["months"] if m["month"] == "2026-04")
    assert (april["count"], april["closed"], april["sla_share"]) == (4, 3, round(2 / 3, 3))
    assert _within_a_bucket(april["median_hours"], 6)
    may = next(m for m in answer["months"] if m["month"] == "2026-05")
    assert may == {"month": "2026-05", **dict.fromkeys(trends.FIGURES), "suppressed": True}
    areas = {a["area_id"]: a for a in answer["areas"]}
    assert (areas["A1"]["count"], areas["A1"]["name"]) == (7, "Zona Ovest")
    assert areas["A2"]["count"] == 7
    assert answer["districts"] is None  # Borgo has no districts layer
    assert answer["min_count"] == COUNCIL_MIN_REPORTS


def test_every_group_under_k_is_suppressed_everywhere(session, borgo):
    _plant(session, borgo)
    answer = _answer(session)
    rows = answer["weekly"] + answer["monthly"] + answer["months"] + answer["areas"]
    for row in rows:
        assert row["suppressed"] == (row["count"] is None)
        assert row["count"] is None or row["count"] >= COUNCIL_MIN_REPORTS
        if row["suppressed"]:
            assert all(row.get(f) is None for f in trends.FIGURES)
    assert sum(1 for r in rows if not r["suppressed"]) >= 6


def test_districts_split_the_tables_when_the_town_has_them(session, borgo):
    x, y = BORGO_ORIGIN
    session.add_all([District(municipality_id=borgo, district_id="D1", name="Centro",
                              geom=from_shape(MultiPolygon([box(x, y, x + 500, y + 1000)]), srid=METRIC_SRID)),
                     District(municipality_id=borgo, district_id="D2", name="Oltrefiume",
                              geom=from_shape(MultiPolygon([box(x + 500, y, x + 1000, y + 500)]), srid=METRIC_SRID))])
    _plant(session, borgo)
    answer = _answer(session)
    districts = {(d["district_id"], d["name"]): d["count"] for d in answer["districts"]}
    # East (900, 900) lies in neither district: its seven reports are the row of no district.
    assert districts == {("D1", "Centro"): 7, ("D2", "Oltrefiume"): None, (None, None): 7}


def test_no_text_or_contact_of_any_report_leaves(session, borgo):
    _plant(session, borgo)
    out = json.dumps(_answer(session)) + json.dumps(_answer(session, service_code=""))
    for secret in (SECRET, PHONE, "Rossi", "maria@example.org", "via"):
        assert secret not in out


def test_an_answer_follows_new_reports_and_is_kept_until_then(session, borgo):
    _plant(session, borgo)
    first = _answer(session)
    assert _answer(session) is first  # nothing changed: the kept answer
    session.add_all([_report(borgo, EAST, datetime(2026, 5, 6, 9, tzinfo=timezone.utc), 1) for _ in range(2)])
    session.flush()
    east = next(a for a in _answer(session)["areas"] if a["area_id"] == "A2")
    assert east["count"] == 9


@pytest.mark.parametrize("args, field", [({"from": "marzo"}, "from"), ({"to": "2026-13"}, "to"),
                                         ({"from": "2026-06", "to": "2026-01"}, "from"),
                                         ({"service_code": "social_distress"}, "service_code")])
def test_a_bad_question_names_its_parameter(session, borgo, args, field):
    with pytest.raises(BadInput) as caught:
        _answer(session, **args)
    assert caught.value.details[0]["field"] == field


def test_a_small_group_cannot_be_worked_out_from_the_groups_shown(session, borgo):
    # March: 7 west; May: 1 east. The areas add up to the period's total (8), so May's one report
    # would be 8 - 7: March is hidden with it, and the east area with the west one.
    session.add_all([_report(borgo, WEST, datetime(2026, 3, 3, 9, tzinfo=timezone.utc), 1) for _ in range(7)]
                    + [_report(borgo, EAST, datetime(2026, 5, 5, 9, tzinfo=timezone.utc), 1)])
    session.flush()
    answer = _answer(session)
    assert all(m["suppressed"] for m in answer["months"])
    assert all(m["suppressed"] for m in answer["monthly"])
    assert all(a["suppressed"] for a in answer["areas"])
