"""``simulate --history``: the past reports are written and counted at once for the council's grid."""
from __future__ import annotations

from sqlalchemy import func, select, text

from geo_urp.db import session_scope
from geo_urp.models import HotspotCell, HotspotRefresh, Report
from geo_urp.reading.hotspots import DEFAULT_CELL_M
from geo_urp.simulate import cli_simulate


def test_history_is_written_and_counted_on_the_council_grid(borgo_db_url):
    said = []
    assert cli_simulate(borgo_db_url, history=800, municipality="borgo", years=1, echo=said.append) == 0
    assert said == ["wrote 800 closed reports over 1 years for borgo"]
    with session_scope(borgo_db_url) as s:
        assert s.scalar(select(func.count()).select_from(Report).where(Report.status == "closed")) == 800
        assert s.scalar(select(HotspotRefresh.version).where(HotspotRefresh.cell_m == DEFAULT_CELL_M)) == 1
        counted = s.scalar(select(func.sum(HotspotCell.n)).where(HotspotCell.cell_m == DEFAULT_CELL_M))
        assert counted == 800


def test_the_planner_has_statistics_of_the_history_once_it_is_written(borgo_db_url):
    # Without them (autovacuum off, or not yet come by) the first calls plan blind on years of reports.
    assert cli_simulate(borgo_db_url, history=300, municipality="borgo", years=1, echo=lambda _: None) == 0
    with session_scope(borgo_db_url) as s:
        analysed = set(s.scalars(text("SELECT relname FROM pg_stat_user_tables "
                                      "WHERE relname LIKE 'reports%' AND last_analyze IS NOT NULL")))
        sampled = s.scalar(text("SELECT count(*) FROM pg_stats WHERE tablename = 'reports_from_0'"))
    assert {"reports", "reports_from_0"} <= analysed
    assert sampled > 0
