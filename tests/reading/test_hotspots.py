"""``reading.hotspots``: a planted hotspot is found on the town's hexagons, a growing one is
classed as emerging, small counts are suppressed, nothing of a report leaves, answers are kept
until a report changes them, and a bad question is refused naming its parameter."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone

import numpy as np
import pytest
from sqlalchemy import select

from geo_urp.db import session_scope
from geo_urp.errors import BadInput
from geo_urp.models import Municipality
from geo_urp.reading import hotspots
from geo_urp.reading.privacy import COUNCIL_MIN_REPORTS
from tests.conftest import report_row

TODAY = date(2026, 12, 3)
HOT_AT = (500, 500)  # metres into Borgo, where the planted hotspot is
SECRET = "anziana sola al secondo piano"


def _plant(session, mid: int, seed: int = 1, hot: int = 60, background: int = 2, months=range(1, 13),
           hot_months=None, service_code: str = "road_damage") -> None:
    """``background`` × 10 reports a month across Borgo, and ``hot`` more within 120 m of HOT_AT
    (a hotspot spans a cell and its neighbours: Gi* asks whether a neighbourhood stands out)."""
    rng = np.random.default_rng(seed)
    rows = []
    for month in months:
        when = datetime(2026, month, 10, 9, tzinfo=timezone.utc)
        for x, y in rng.uniform(20, 980, size=(background * 10, 2)):
            rows.append(report_row(mid, (float(x), float(y)), when, service_code=service_code, description=SECRET))
        if hot_months is None or month in hot_months:
            n = hot // len(months) if hot_months is None else hot
            radius, angle = 120 * np.sqrt(rng.random(n)), rng.uniform(0, 2 * np.pi, n)
            for dx, dy in zip(radius * np.cos(angle), radius * np.sin(angle)):
                rows.append(report_row(mid, (HOT_AT[0] + dx, HOT_AT[1] + dy), when, service_code=service_code,
                                       description=SECRET))
    session.add_all(rows)
    session.flush()


def _question(session, mid: int, **args) -> hotspots.Question:
    query = {"service_code": "road_damage", "from": "2026-01", "to": "2026-12", "cell_m": "100", **args}
    return hotspots.ask(session, query, None, today=TODAY)


def _cell_with(answer: dict, at: tuple[float, float]) -> dict:
    """The properties of the cell whose hexagon holds ``at`` (metres into Borgo)."""
    from shapely.geometry import Point, shape
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(32632, 4326, always_xy=True).transform(660000 + at[0], 5118000 + at[1])
    return next(f["properties"] for f in answer["features"] if shape(f["geometry"]).contains(Point(lon, lat)))


def test_a_planted_hotspot_is_hot_and_the_rest_of_the_town_is_not(session, borgo):
    _plant(session, borgo, hot=240)
    answer = hotspots.hotspots(session, _question(session, borgo))
    centre = _cell_with(answer, HOT_AT)
    assert centre["class"] == "hot" and centre["count"] > 40 and centre["gi_z"] > 3
    far = _cell_with(answer, (100, 900))
    assert far["class"] == "none"
    assert answer["hot"] <= 19  # the planted cells and at most their ring of neighbours


def test_small_counts_are_suppressed_with_their_statistics(session, borgo):
    # two small cells, which together make k, so that the shown cell needs no partner hidden
    session.add_all([report_row(borgo, at, datetime(2026, 5, 1, tzinfo=timezone.utc), service_code="road_damage")
                     for at, n in (((100, 100), COUNCIL_MIN_REPORTS - 1), ((500, 100), COUNCIL_MIN_REPORTS - 1),
                                   ((800, 800), COUNCIL_MIN_REPORTS)) for _ in range(n)])
    session.flush()
    answer = hotspots.hotspots(session, _question(session, borgo, trend="1"))
    few, enough = _cell_with(answer, (100, 100)), _cell_with(answer, (800, 800))
    assert few["count"] is None and few["gi_z"] is None and few["gi_p"] is None and few["suppressed"]
    assert set(few["monthly"]) == {None}
    assert enough["count"] == COUNCIL_MIN_REPORTS and not enough["suppressed"]
    assert enough["monthly"][4] == COUNCIL_MIN_REPORTS
    shown = [f["properties"]["count"] for f in answer["features"]]
    assert all(n is None or n >= COUNCIL_MIN_REPORTS for n in shown)


def test_a_small_cell_cannot_be_worked_out_from_the_town_total(session, borgo):
    # 2 reports in one cell, 3 in another: the town's 5 (on the trend page) less the 3 shown would
    # tell the 2, so the 3 is hidden too, and with it the months of both
    session.add_all([report_row(borgo, at, datetime(2026, 5, 1, tzinfo=timezone.utc), service_code="road_damage")
                     for at, n in (((100, 100), COUNCIL_MIN_REPORTS - 1), ((800, 800), COUNCIL_MIN_REPORTS))
                     for _ in range(n)])
    session.flush()
    answer = hotspots.hotspots(session, _question(session, borgo, trend="1"))
    assert all(f["properties"]["count"] is None for f in answer["features"])
    assert all(set(f["properties"]["monthly"]) == {None} for f in answer["features"])


def test_nothing_of_a_report_leaves_only_cells_and_their_figures(session, borgo):
    _plant(session, borgo)
    answer = hotspots.hotspots(session, _question(session, borgo, trend="1"))
    text = json.dumps(answer, ensure_ascii=False)
    assert SECRET not in text and "token" not in text and "report" not in text
    allowed = {"i", "j", "count", "suppressed", "gi_z", "gi_p", "class", "trend", "monthly"}
    assert all(set(f["properties"]) <= allowed for f in answer["features"])
    assert all(f["geometry"]["type"] == "Polygon" for f in answer["features"])


def test_a_hotspot_growing_in_the_last_months_is_emerging_and_a_fading_one_is_not(session, borgo):
    _plant(session, borgo, hot=40, hot_months=range(10, 13))
    answer = hotspots.hotspots(session, _question(session, borgo, trend="1"))
    assert _cell_with(answer, HOT_AT)["trend"] in ("new", "intensifying", "sporadic")
    assert answer["months"] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert _cell_with(answer, (100, 900))["trend"] == "none"


def test_the_same_question_is_answered_from_the_kept_answer_until_a_report_changes_the_counts(borgo_db_url):
    with session_scope(borgo_db_url) as s:
        mid = s.scalar(select(Municipality.id).where(Municipality.slug == "borgo"))
        _plant(s, mid, hot=60)
    with session_scope(borgo_db_url) as s:
        first = hotspots.hotspots(s, _question(s, mid))
    with session_scope(borgo_db_url) as s:
        assert hotspots.hotspots(s, _question(s, mid)) == first
        s.add_all([report_row(mid, HOT_AT, datetime(2026, 6, 1, tzinfo=timezone.utc), service_code="road_damage")
                   for _ in range(5)])
    with session_scope(borgo_db_url) as s:
        again = hotspots.hotspots(s, _question(s, mid))
    assert _cell_with(again, HOT_AT)["count"] == _cell_with(first, HOT_AT)["count"] + 5


def test_every_service_together_when_none_is_named(session, borgo):
    _plant(session, borgo, hot=24, background=0, service_code="road_damage")
    _plant(session, borgo, hot=24, background=0, service_code="flooding")
    both = hotspots.hotspots(session, hotspots.ask(session, {"from": "2026-01", "to": "2026-12", "cell_m": "100"},
                                                   None, today=TODAY))
    roads = hotspots.hotspots(session, _question(session, borgo))
    floods = hotspots.hotspots(session, _question(session, borgo, service_code="flooding"))
    assert _cell_with(both, HOT_AT)["count"] == _cell_with(roads, HOT_AT)["count"] + _cell_with(floods, HOT_AT)["count"]
    assert sum(f["properties"]["count"] or 0 for f in both["features"]) > 40


@pytest.mark.parametrize("args, field", [
    ({"cell_m": "10"}, "cell_m"), ({"cell_m": "x"}, "cell_m"), ({"cell_m": "٣٠٠"}, "cell_m"),
    ({"service_code": "nope"}, "service_code"), ({"trend": "yes"}, "trend"),
    ({"from": "2026-13"}, "from"), ({"to": "yesterday"}, "to"),
    ({"from": "2026-06", "to": "2026-01"}, "from"), ({"from": "2000-01", "to": "2026-01"}, "from"),
])
def test_a_bad_question_is_refused_naming_its_parameter(session, borgo, args, field):
    with pytest.raises(BadInput) as refused:
        _question(session, borgo, **args)
    assert field in str(refused.value)


def test_the_period_defaults_to_the_last_twelve_months_in_whole_months(session, borgo):
    question = hotspots.ask(session, {}, None, today=TODAY)
    assert (question.first, question.last, question.cell_m) == (date(2026, 1, 1), date(2026, 12, 1), 200)
    answer = hotspots.hotspots(session, question)
    assert (answer["from"], answer["to"]) == ("2026-01-01", "2026-12-31")
