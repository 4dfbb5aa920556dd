"""tests/one_town.py reads from a statement's SQL whether its co-located tables are joined on
their town and tied to a town it names (what conftest's ``joins_equate_towns`` holds every test to)."""
from __future__ import annotations

import pytest

from tests.one_town import towns_of


@pytest.mark.parametrize("sql, unjoined, unrouted", [
    # A link joined on its report's id alone: two towns' rows could meet; no town named.
    ("SELECT ir.incident_id FROM incident_reports ir JOIN reports r ON r.id = ir.report_id "
     "WHERE ir.incident_id = ANY(%(ids)s)", {"r (reports)"}, {"ir (incident_reports)", "r (reports)"}),
    # Joined on the whole key: one town's rows meet, but which town is not said.
    ("SELECT ir.incident_id FROM incident_reports ir JOIN reports r "
     "ON r.municipality_id = ir.municipality_id AND r.id = ir.report_id WHERE ir.incident_id = ANY(%(ids)s)",
     set(), {"ir (incident_reports)", "r (reports)"}),
    # ... and the town named on one side reaches the other through the join.
    ("SELECT ir.incident_id FROM incident_reports ir JOIN reports r "
     "ON r.municipality_id = ir.municipality_id AND r.id = ir.report_id "
     "WHERE ir.municipality_id = %(mid)s AND ir.incident_id = ANY(%(ids)s)", set(), set()),
    # A correlated subquery counts as a join; unqualified columns are the one table's of their scope.
    ("SELECT i.id, (SELECT count(*) FROM incident_reports WHERE incident_id = i.id) FROM incidents i "
     "WHERE i.municipality_id = %(mid)s", {"incident_reports (incident_reports)"},
     {"incident_reports (incident_reports)"}),
    ("WITH c AS (SELECT 1) SELECT i.id, (SELECT count(*) FROM incident_reports WHERE incident_id = i.id "
     "AND municipality_id = i.municipality_id) FROM incidents i WHERE i.municipality_id IN (1, 2)", set(), set()),
    # Per town through a table of towns: joined (each town's rows on their own), not routed.
    ("SELECT m.slug, (SELECT count(*) FROM reports WHERE reports.municipality_id = m.id), "
     "(SELECT count(*) FROM incidents WHERE incidents.municipality_id = m.id) FROM municipalities m",
     set(), {"reports (reports)", "incidents (incidents)"}),
    # An insert names the town it writes; an update by the whole key is routed, by another column not.
    ("INSERT INTO incident_reports (report_id, municipality_id, incident_id) "
     "VALUES (%(report_id)s, %(municipality_id)s, %(incident_id)s)", set(), set()),
    ("UPDATE incidents SET status=%(s)s WHERE incidents.id = %(id)s AND incidents.municipality_id = %(m)s",
     set(), set()),
    ("UPDATE incident_reports SET incident_id=%(new)s WHERE incident_reports.incident_id = %(old)s",
     set(), {"incident_reports (incident_reports)"}),
    # pg_trgm's operator, escaped for psycopg2; tables of no town; what is not a query at all.
    ("SELECT name FROM streets WHERE municipality_id = %(m)s AND name %% %(q)s", set(), set()),
    ("SAVEPOINT sa_savepoint_1", set(), set()),
])
def test_a_statement_is_read_for_the_towns_it_reaches(sql, unjoined, unrouted):
    towns = towns_of(sql)
    assert (set(towns.unjoined), set(towns.unrouted)) == (unjoined, unrouted)
    assert towns.joined == (not unjoined) and towns.routed == (not unrouted)


@pytest.mark.parametrize("sql, unjoined", [
    # One alias in two subqueries: each is its own table (the second is not joined on its town).
    ("SELECT (SELECT count(*) FROM incident_reports ir WHERE ir.municipality_id = i.municipality_id "
     "AND ir.incident_id = i.id), (SELECT count(*) FROM incident_events ir WHERE ir.incident_id = i.id) "
     "FROM incidents i WHERE i.municipality_id = %(m)s", {"ir (incident_events)"}),
    # An equality under OR need not hold.
    ("SELECT i.id FROM incidents i JOIN incident_reports ir ON ir.incident_id = i.id "
     "AND (ir.municipality_id = i.municipality_id OR true) WHERE i.municipality_id = %(m)s",
     {"ir (incident_reports)"}),
    # A town named on each side: taken as the same town (SQLAlchemy binds one value once per use).
    ("SELECT i.id FROM incidents i JOIN incident_reports ir ON ir.incident_id = i.id "
     "WHERE i.municipality_id = %(municipality_id_1)s AND ir.municipality_id = %(municipality_id_2)s", set()),
    # USING, a CTE's town, a cast: all ties.
    ("SELECT r.id FROM reports r JOIN caller_contacts c USING (municipality_id) WHERE r.id = c.report_id", set()),
    ("WITH t AS (SELECT id, municipality_id FROM incidents WHERE municipality_id = %(m)s) "
     "SELECT ir.report_id FROM t JOIN incident_reports ir ON ir.municipality_id = t.municipality_id "
     "AND ir.incident_id = t.id", set()),
    ("SELECT ir.report_id FROM incidents i JOIN incident_reports ir "
     "ON ir.municipality_id = CAST(i.municipality_id AS int) AND ir.incident_id = i.id", set()),
])
def test_only_ties_that_must_hold_join_tables(sql, unjoined):
    assert set(towns_of(sql).unjoined) == unjoined


@pytest.mark.parametrize("sql", [
    # A CTE that shadows the table it reads, CTEs that read each other: no end to follow.
    "WITH due AS (SELECT municipality_id, id FROM due) SELECT * FROM due JOIN reports r "
    "ON r.municipality_id = due.municipality_id",
    "WITH a AS (SELECT municipality_id FROM b), b AS (SELECT municipality_id FROM a) "
    "SELECT * FROM a JOIN reports r ON r.municipality_id = a.municipality_id",
    # A long chain of conditions.
    "SELECT id FROM reports WHERE municipality_id = 1 AND " + " AND ".join(f"id <> {n}" for n in range(1500)),
])
def test_a_statement_of_any_shape_is_read_to_the_end(sql):
    # No endless reading: an error here would be raised in the service's execute.
    assert any(table.endswith("(reports)") for table in towns_of(sql).tables)
