"""The council's trend page and its CSV tables (``showing/pages_council_trends.py``) on a Borgo with
planted road-damage reports with a history, a service with too few reports and calls about a person.

The planted counts come out on the page and in every CSV (per district too, once the town has
districts); a group under k shows "< k", never a number; no report's words, caller, contact or
address leave; a hostile area name is escaped in the charts; a bad question is a 400 naming its
field; every table link of the page downloads its CSV.
"""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, box
from sqlalchemy import select, update

from geo_urp.db import session_scope
from geo_urp.models import METRIC_SRID, CallerContact, CrewArea, District, Municipality
from geo_urp.reading.privacy import COUNCIL_MIN_REPORTS
from tests.conftest import BORGO_ORIGIN, make_app, report_row

WORDS = "<script>alert('trend')</script> la signora Bianchi, anziana sola al secondo piano"
CONTACT = {"first_name": "Maria", "last_name": "Rossi", "phone": "+39 333 7654321", "email": "maria.rossi@example.org"}
ADDRESS = "Via Garibaldi 12"
PRIVATE = ("alert(", "Bianchi", "secondo piano", "Maria", "Rossi", "333 7654321", "maria.rossi@example.org",
           "Garibaldi")
HIDDEN = f"< {COUNCIL_MIN_REPORTS}"
WEST, EAST = (100, 100), (900, 900)  # in crew areas A1 (Zona Ovest) and A2 of Borgo
QUERY = "jurisdiction_id=borgo&service_code=road_damage&from=2026-01&to=2026-06"
ALL = "jurisdiction_id=borgo&from=2026-01&to=2026-06"


def _report(mid, at, when, hours=None, service_code="road_damage"):
    """A report made ``when`` with a caller's words, contact and address, closed ``hours`` later
    (None: still open), due 24 hours after it was made."""
    closed = hours is not None
    row = report_row(mid, at, when, service_code=service_code, description=WORDS, status_notes=WORDS,
                     address=ADDRESS, status="closed" if closed else "open",
                     updated_datetime=when + timedelta(hours=hours) if closed else when,
                     expected_datetime=when + timedelta(hours=24))
    row.contact = CallerContact(**CONTACT)
    return row


@pytest.fixture()
def planted(borgo_db_url) -> str:
    """Road damage: March, 5 reports in ISO week 10 and 2 in week 11 (west, closed after 1, 2, 3, 4,
    50, 10 and 20 hours); April, 4 east (one still open); May, one alone; June, two east (so that
    May's one cannot be worked out from the other months and the areas). Noise: 2 reports in March
    (too few anywhere). Social distress: 4 in March (never the council's)."""
    with session_scope(borgo_db_url) as s:
        mid = s.scalar(select(Municipality.id).where(Municipality.slug == "borgo"))
        rows = [_report(mid, WEST, datetime(2026, 3, 3, 9, tzinfo=timezone.utc), h) for h in (1, 2, 3, 4, 50)]
        rows += [_report(mid, WEST, datetime(2026, 3, 10, 9, tzinfo=timezone.utc), h) for h in (10, 20)]
        rows += [_report(mid, EAST, datetime(2026, 4, 14, 9, tzinfo=timezone.utc), h) for h in (5, 6, 30, None)]
        rows.append(_report(mid, EAST, datetime(2026, 5, 5, 9, tzinfo=timezone.utc), 2))
        rows += [_report(mid, EAST, datetime(2026, 6, 9, 9, tzinfo=timezone.utc), 2) for _ in range(2)]
        rows += [_report(mid, WEST, datetime(2026, 3, 4, 9, tzinfo=timezone.utc), 3, "noise") for _ in range(2)]
        rows += [_report(mid, WEST, datetime(2026, 3, 4, 9, tzinfo=timezone.utc), 3, "social_distress")
                 for _ in range(4)]
        s.add_all(rows)
    return borgo_db_url


def _get(client, keys, path: str, status: int = 200):
    resp = client.get(path, headers={"X-API-Key": keys["council"]})
    assert resp.status_code == status, resp.get_data(as_text=True)[:2000]
    return resp


def _cells(page: str, section: str, key: str) -> dict[str, dict[str, str]]:
    """A section's figure table: row key (data-month, data-week, data-place) -> figure -> the cell's text."""
    body = re.search(rf'<section id="{section}">(.*?)</section>', page, re.S).group(1)
    return {k: {f: html.unescape(v) for f, v in re.findall(r'<td data-figure="(\w+)">(.*?)</td>', row)}
            for k, row in re.findall(rf'<tr data-{key}="([^"]*)">(.*?)</tr>', body, re.S)}


def _csv(client, keys, table: str, query: str = QUERY) -> list[dict[str, str]]:
    resp = _get(client, keys, f"/council/trends.csv?table={table}&{query}")
    assert resp.mimetype == "text/csv"
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and table in disposition
    return list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))


def test_the_page_shows_the_planted_counts_times_and_sla(planted, borgo_keys):
    page = _get(make_app(planted).test_client(), borgo_keys, f"/council/trends?{QUERY}").get_data(as_text=True)
    months = _cells(page, "months", "month")
    assert months["2026-03"]["count"] == "7" and months["2026-03"]["closed"] == "7"
    assert months["2026-03"]["sla_share"].replace("\xa0", "") == "86%"  # 6 of 7 within 24 hours
    assert months["2026-04"]["count"] == "4" and months["2026-04"]["closed"] == "3"
    assert months["2026-04"]["sla_share"].replace("\xa0", "") == "67%"
    assert months["2026-03"]["median_hours"].endswith(" h") and months["2026-03"]["p90_hours"].endswith(" h")
    assert months["2026-05"] == {"count": HIDDEN, "closed": HIDDEN, "median_hours": "—", "p90_hours": "—",
                                 "sla_share": "—"}
    areas = _cells(page, "areas", "place")
    assert areas["A1"]["count"] == "7" and areas["A2"]["count"] == "7"
    block = re.search(r'<div class="service" data-service="road_damage">(.*?)</div>', page, re.S).group(1)
    weeks = {w: html.unescape(n) for w, n in
             re.findall(r'<tr data-week="([^"]+)"><th[^>]*>[^<]*</th><td data-figure="count">(.*?)</td>', block)}
    assert (weeks["2026-W10"], weeks["2026-W16"], weeks["2026-W11"], weeks["2026-W19"]) == ("5", "4", HIDDEN, HIDDEN)
    assert 'id="no-districts"' in page  # Borgo has no districts layer
    assert 'href="/council?jurisdiction_id=borgo"' in page
    # the charts: a bar per month and per week, with a title each; the hidden ones carry no value
    months_chart = re.search(r'<svg [^>]*id="months-counts".*?</svg>', page, re.S).group(0)
    assert len(re.findall(r'<rect class="bar"', months_chart)) == 2            # March, April
    assert len(re.findall(r'<rect class="bar hidden"', months_chart)) == 4     # Jan, Feb, May, June
    assert months_chart.count("<title") == 1 + 6 and f"2026-05: {HIDDEN.replace('<', '&lt;')}" in months_chart


def test_every_csv_holds_the_planted_counts_suppressed_as_on_the_page(planted, borgo_keys):
    client = make_app(planted).test_client()
    weekly = {r["week"]: r for r in _csv(client, borgo_keys, "weekly")}
    assert weekly["2026-W10"]["count"] == "5" and weekly["2026-W16"]["count"] == "4"
    assert weekly["2026-W11"]["count"] == HIDDEN and weekly["2026-W19"]["count"] == HIDDEN
    monthly = {(r["month"], r["service_code"]): r for r in _csv(client, borgo_keys, "monthly")}
    march = monthly[("2026-03", "road_damage")]
    assert (march["count"], march["sla_share"]) == ("7", "0.857")
    months = {r["month"]: r for r in _csv(client, borgo_keys, "months")}
    assert (months["2026-04"]["count"], months["2026-04"]["closed"]) == ("4", "3")
    assert months["2026-05"] == {"month": "2026-05", "count": HIDDEN, "closed": HIDDEN, "median_hours": "",
                                 "p90_hours": "", "sla_share": ""}          # as the page shows it
    areas = {r["area_id"]: r for r in _csv(client, borgo_keys, "areas")}
    assert (areas["A1"]["count"], areas["A1"]["name"], areas["A2"]["count"]) == ("7", "Zona Ovest", "7")
    resp = _get(client, borgo_keys, f"/council/trends.csv?table=districts&{QUERY}", 404)
    assert "districts" in resp.get_data(as_text=True)


@pytest.mark.parametrize("table", ["weekly", "monthly", "months", "areas"])
def test_a_group_under_k_shows_no_number_in_any_csv(planted, borgo_keys, table):
    rows = _csv(make_app(planted).test_client(), borgo_keys, table, ALL)
    noise = [r for r in rows if r.get("service_code") == "noise"]
    assert table in ("months", "areas") or (noise and all(r["count"] == HIDDEN for r in noise))
    for r in rows:
        assert r["count"] == HIDDEN or int(r["count"]) >= COUNCIL_MIN_REPORTS
        if r["count"] == HIDDEN:
            assert r.get("closed", HIDDEN) == HIDDEN
            assert all(r[f] == "" for f in ("median_hours", "p90_hours", "sla_share") if f in r)
    assert not any(r.get("service_code") == "social_distress" for r in rows)


def test_a_service_with_too_few_reports_shows_no_number_on_the_page(planted, borgo_keys):
    page = _get(make_app(planted).test_client(), borgo_keys, f"/council/trends?{ALL}").get_data(as_text=True)
    assert 'data-service="noise"' not in page                       # no chart nor table of its own
    assert "Disturbo" in re.search(r'<p class="hint" id="quiet-services">(.*?)</p>', page, re.S).group(1)
    months = _cells(page, "months", "month")
    assert months["2026-03"]["count"] == "9"                       # 7 road damage + 2 noise, no distress call
    every_cell = [html.unescape(c) for c in re.findall(r'<td data-figure="count">(.*?)</td>', page)]
    assert every_cell and all(c == HIDDEN or int(c) >= COUNCIL_MIN_REPORTS for c in every_cell)
    assert all(float(v) >= COUNCIL_MIN_REPORTS for v in re.findall(r'<rect class="bar"[^>]*data-value="([\d.]+)"',
                                                                    re.sub(r'id="\w*-sla".*?</svg>', "", page, flags=re.S)))


def test_no_word_contact_or_address_of_a_report_leaves(planted, borgo_keys):
    client = make_app(planted).test_client()
    outputs = [_get(client, borgo_keys, f"/council/trends?{q}").get_data(as_text=True) for q in (QUERY, ALL)]
    outputs += [_get(client, borgo_keys, f"/council/trends.csv?table={t}&{ALL}").get_data(as_text=True)
                for t in ("weekly", "monthly", "months", "areas")]
    for out in outputs:
        assert [p for p in PRIVATE if p in out] == []


def test_a_hostile_area_name_is_escaped_in_the_charts_and_tables_and_no_formula_in_the_csv(planted, borgo_keys):
    with session_scope(planted) as s:
        s.execute(update(CrewArea).where(CrewArea.area_id == "A1").values(name='<img src=x onerror="alert(1)">'))
        s.execute(update(CrewArea).where(CrewArea.area_id == "A2").values(name='=HYPERLINK("http://x.example")'))
    client = make_app(planted).test_client()
    page = _get(client, borgo_keys, f"/council/trends?{QUERY}").get_data(as_text=True)
    assert "<img" not in page and "&lt;img src=x" in page
    areas = {r["area_id"]: r["name"] for r in _csv(client, borgo_keys, "areas")}
    assert areas["A2"] == "'=HYPERLINK(\"http://x.example\")" and areas["A1"].startswith("<img")


@pytest.mark.parametrize("path, field", [
    (f"/council/trends?{ALL}&service_code=nope", "service_code"),
    (f"/council/trends?{ALL}&service_code=social_distress", "service_code"),
    ("/council/trends?jurisdiction_id=borgo&from=2026-13", "from"),
    ("/council/trends?jurisdiction_id=borgo&to=marzo", "to"),
    (f"/council/trends.csv?table=nope&{QUERY}", "table"),
    (f"/council/trends.csv?{QUERY}", "table"),
    ("/council/trends.csv?table=weekly&jurisdiction_id=borgo&from=2026-02-30", "from"),
    ("/council/trends.csv?table=months&jurisdiction_id=borgo&service_code=nope", "service_code"),
])
def test_a_bad_question_is_a_400_naming_the_field(planted, borgo_keys, path, field):
    resp = _get(make_app(planted).test_client(), borgo_keys, path, 400)
    assert resp.json["details"][0]["field"] == field and field in resp.json["error"]


def test_a_council_login_reads_the_page_and_an_operator_may_not(planted):
    client = make_app(planted).test_client()
    assert client.post("/login", data={"username": "carla", "password": "password-carla"}).status_code == 302
    assert client.get(f"/council/trends?{QUERY}").status_code == 200
    operator = make_app(planted).test_client()
    operator.post("/login", data={"username": "anna", "password": "password-anna"})
    assert operator.get(f"/council/trends?{QUERY}").status_code == 403


def test_each_table_link_of_the_page_downloads_its_csv(planted, borgo_keys):
    client = make_app(planted).test_client()
    page = _get(client, borgo_keys, f"/council/trends?{QUERY}").get_data(as_text=True)
    links = dict(re.findall(r'<a class="csv" data-table="(\w+)" href="([^"]+)"', page))
    assert sorted(links) == ["areas", "monthly", "months", "weekly"]   # no districts layer: no link
    for table, href in links.items():
        resp = _get(client, borgo_keys, html.unescape(href))
        assert resp.mimetype == "text/csv" and f"-{table}-road_damage-2026-01-2026-06.csv" in resp.headers["Content-Disposition"]


def test_districts_get_their_chart_table_and_csv_when_the_town_has_them(planted, borgo_keys):
    x, y = BORGO_ORIGIN
    with session_scope(planted) as s:
        mid = s.scalar(select(Municipality.id).where(Municipality.slug == "borgo"))
        s.add_all([District(municipality_id=mid, district_id="D1", name="Centro",
                            geom=from_shape(MultiPolygon([box(x, y, x + 500, y + 1000)]), srid=METRIC_SRID)),
                   District(municipality_id=mid, district_id="D2", name="Oltrefiume",
                            geom=from_shape(MultiPolygon([box(x + 500, y, x + 1000, y + 500)]), srid=METRIC_SRID))])
    client = make_app(planted).test_client()
    page = _get(client, borgo_keys, f"/council/trends?{QUERY}").get_data(as_text=True)
    assert 'id="no-districts"' not in page and 'id="districts-counts"' in page
    districts = _cells(page, "districts", "place")
    # West (100, 100) is in Centro; east (900, 900) in neither district: the row of no district.
    assert (districts["D1"]["count"], districts["D2"]["count"], districts[""]["count"]) == ("7", HIDDEN, "7")
    rows = {r["district_id"]: r for r in _csv(client, borgo_keys, "districts")}
    assert (rows["D1"]["count"], rows["D1"]["name"], rows["D2"]["count"], rows[""]["count"]) == ("7", "Centro", HIDDEN, "7")
