"""Per-town change numbers (migration 0014): handed out at commit, in commit order, per town."""
from __future__ import annotations

from sqlalchemy import text

from geo_urp.db import engine_for, session_scope
from geo_urp.models import Municipality
from tests.conftest import report_row


def _towns_with_a_report_each(url: str) -> dict[str, tuple[int, int]]:
    """Two towns, each with one committed report: slug -> (municipality id, report id)."""
    with session_scope(url) as session:
        towns = [Municipality(slug=slug, name=slug.title()) for slug in ("alta", "bassa")]
        session.add_all(towns)
        session.flush()
        reports = [report_row(t.id) for t in towns]
        session.add_all(reports)
        session.flush()
        return {t.slug: (t.id, r.id) for t, r in zip(towns, reports)}


def _numbers(conn) -> dict:
    """Each report's change number, and each town's counter."""
    return {
        "reports": dict(conn.execute(text("SELECT id, change_no FROM reports")).all()),
        "towns": dict(conn.execute(text("SELECT municipality_id, change_no FROM town_changes")).all()),
    }


def test_a_commit_numbers_what_it_wrote_with_its_towns_next_change(fresh_db_url):
    towns = _towns_with_a_report_each(fresh_db_url)
    (alta, alta_report), (bassa, bassa_report) = towns["alta"], towns["bassa"]
    engine = engine_for(fresh_db_url)
    with engine.connect() as conn:
        first = _numbers(conn)
    # one transaction wrote both towns' first report: each town's first change
    assert first["towns"] == {alta: 1, bassa: 1}
    assert first["reports"] == {alta_report: 1, bassa_report: 1}
    with engine.begin() as conn:
        conn.execute(text("UPDATE reports SET status = 'closed' WHERE id = :r"), {"r": alta_report})
    with engine.connect() as conn:
        second = _numbers(conn)
    assert second["towns"] == {alta: 2, bassa: 1}
    assert second["reports"] == {alta_report: 2, bassa_report: 1}


def test_numbers_follow_the_order_of_commits_not_of_beginnings(fresh_db_url):
    towns = _towns_with_a_report_each(fresh_db_url)
    mid, report = towns["alta"]
    engine = engine_for(fresh_db_url)
    early = engine.connect()
    try:
        early_tx = early.begin()  # begins and writes first...
        early.execute(text("UPDATE reports SET status = 'closed' WHERE id = :r"), {"r": report})
        with session_scope(fresh_db_url) as session:  # ...while a later call of the town commits
            session.add(report_row(mid))
        with engine.connect() as conn:
            during = _numbers(conn)
        # the transaction still running has numbered nothing: the report keeps its committed number
        assert during["reports"][report] == 1 and during["towns"][mid] == 2
        early_tx.commit()
    finally:
        early.close()
    with engine.connect() as conn:
        after = _numbers(conn)
    later_report = max(after["reports"])
    assert after["reports"][later_report] == 2 and after["reports"][report] == 3 and after["towns"][mid] == 3


def test_a_rolled_back_write_numbers_nothing(fresh_db_url):
    towns = _towns_with_a_report_each(fresh_db_url)
    mid, report = towns["bassa"]
    engine = engine_for(fresh_db_url)
    with engine.connect() as conn:
        tx = conn.begin()
        conn.execute(text("UPDATE reports SET status = 'closed' WHERE id = :r"), {"r": report})
        tx.rollback()
        assert _numbers(conn)["towns"][mid] == 1 and _numbers(conn)["reports"][report] == 1


def test_every_row_a_transaction_wrote_gets_the_same_number_and_none_stays_pending(fresh_db_url):
    towns = _towns_with_a_report_each(fresh_db_url)
    mid, _ = towns["alta"]
    with session_scope(fresh_db_url) as session:
        session.add_all([report_row(mid, at=(10 * k, 0)) for k in range(50)])
    with engine_for(fresh_db_url).connect() as conn:
        numbers = conn.execute(text("SELECT change_no, count(*) FROM reports WHERE municipality_id = :m "
                                    "GROUP BY 1 ORDER BY 1"), {"m": mid}).all()
    assert [tuple(n) for n in numbers] == [(1, 1), (2, 50)]


def test_a_number_written_by_anyone_but_the_stamp_is_not_kept(fresh_db_url):
    towns = _towns_with_a_report_each(fresh_db_url)
    mid, report = towns["alta"]
    with engine_for(fresh_db_url).begin() as conn:  # a write that would hide itself from pollers
        conn.execute(text("UPDATE reports SET status = 'closed', change_no = 0 WHERE id = :r"), {"r": report})
    with engine_for(fresh_db_url).connect() as conn:
        numbers = _numbers(conn)
    assert numbers["reports"][report] == 2 and numbers["towns"][mid] == 2


def test_rows_written_after_an_early_stamp_are_numbered_too(fresh_db_url):
    towns = _towns_with_a_report_each(fresh_db_url)
    (alta, first), (bassa, second) = towns["alta"], towns["bassa"]
    with engine_for(fresh_db_url).begin() as conn:
        conn.execute(text("UPDATE reports SET status = 'closed' WHERE id = :r"), {"r": first})
        conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))  # the stamp runs now, before the commit...
        conn.execute(text("SET CONSTRAINTS ALL DEFERRED"))
        conn.execute(text("UPDATE reports SET status = 'closed' WHERE id = :r"), {"r": second})  # ...then more
    with engine_for(fresh_db_url).connect() as conn:
        numbers = _numbers(conn)
    assert numbers["reports"][first] == 2 and numbers["reports"][second] == 2
    assert numbers["towns"] == {alta: 2, bassa: 2}


def test_a_town_written_only_in_a_savepoint_rolled_back_is_not_numbered(fresh_db_url):
    towns = _towns_with_a_report_each(fresh_db_url)
    (alta, first), (bassa, second) = towns["alta"], towns["bassa"]
    with engine_for(fresh_db_url).begin() as conn:
        conn.execute(text("UPDATE reports SET status = 'closed' WHERE id = :r"), {"r": first})
        undone = conn.begin_nested()
        conn.execute(text("UPDATE reports SET status = 'closed' WHERE id = :r"), {"r": second})
        undone.rollback()
    with engine_for(fresh_db_url).connect() as conn:
        numbers = _numbers(conn)
    assert numbers["towns"] == {alta: 2, bassa: 1} and numbers["reports"] == {first: 2, second: 1}
