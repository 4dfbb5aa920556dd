"""Water calls weighed against the pipes and valve segments: burst mains and outages.

A leak call points at a pipe (the main it was snapped to). The break is placed on
the most likely main from its leak calls (``leak_segment``, in PostGIS), and the
valves to shut and the area left dry are those of the valve segment holding it
(``reasoning.isolation.isolate_break``): a valve part-way along the main is closed,
not the valves beyond the junction past it. ``breaks_at`` tells by the same rule
where a break at given points would lie (the night planner plants bursts with it).
No-water calls without a leak form an outage over the smallest set of segments one
failure would explain, found on the segment graph in Python (networkx); distances
and address counts are asked of PostGIS.
"""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import Row, and_, any_, bindparam, func, or_, select, text
from sqlalchemy.orm import Session

from geo_urp.errors import NotFound
from geo_urp.loading import layer_cache
from geo_urp.models import Incident, Report
from geo_urp.models.incidents import OPEN_STATUSES
from geo_urp.reasoning import grouping, words
from geo_urp.reasoning.isolation import dry_areas, isolate_break, isolate_pipes
from geo_urp.reasoning.rules import Rules

SERVICES = ("water_leak", "no_water", "low_pressure")
KINDS = ("water_main_burst", "water_outage")


def located(inc: Incident) -> bool:
    """Whether a water incident lies on the network (its pipes or segments are known).

    Calls with no main within reach make ``water_outage`` clusters with neither:
    those group by place and time (``reasoning.clusters``), not on the graph.
    """
    return bool(inc.asset_ids or inc.affected_segment_nos)


# The open bursts and outages a new call can join, oldest first (built once): those with a call
# within the call's window, except that a burst nobody has closed yet still takes calls on its
# own mains and dry area, and only incidents on the network (``located``: clusters of calls near
# no main are ``clusters``' to grow, under a lock of their own). Chosen in SQL: a night
# of calls leaves many open outages, and loading every one of them on every water call cost
# more than the rest of the call.
_RECENT = grouping.called_between(bindparam("since"), bindparam("until"))
_LOCATED = or_(func.cardinality(Incident.asset_ids) > 0, func.cardinality(Incident.affected_segment_nos) > 0)
_CAN_GROW = (select(Incident)
             .where(Incident.municipality_id == bindparam("mid"), Incident.status.in_(OPEN_STATUSES),
                    or_(and_(Incident.kind == "water_main_burst", _LOCATED,
                             or_(_RECENT, bindparam("pipe") == any_(Incident.asset_ids),
                                 bindparam("segment") == any_(Incident.affected_segment_nos))),
                        and_(Incident.kind == "water_outage", _RECENT, _LOCATED)))
             .order_by(Incident.opened_at, Incident.id))


def handle(session: Session, report: Report, rules: Rules) -> Incident:
    """Put a water report into a burst or an outage, upgrading an outage when a leak call arrives."""
    mid = report.municipality_id
    half = timedelta(hours=rules.water["window_h"])
    rows = session.scalars(_CAN_GROW, {"mid": mid, "since": report.requested_datetime - half,
                                       "until": report.requested_datetime + half,
                                       "pipe": report.pipe_id, "segment": report.segment_no}).all()
    bursts = [i for i in rows if i.kind == "water_main_burst"]
    outages = [i for i in rows if i.kind == "water_outage"]
    if report.service_code == "water_leak":
        burst = _burst_of_leak(session, bursts, report, rules)
        if burst is not None:
            return _join(session, report, burst, rules)
        return _leak(session, report, outages, rules)
    for burst in bursts:
        if report.segment_no in burst.affected_segment_nos:
            return _join(session, report, burst, rules)
    segments = _segments_of_calls(session, outages)
    for outage in outages:
        reported = segments[outage.id] | {report.segment_no}
        dry = _smallest_dry_area(session, mid, reported)
        if dry is not None and len(dry) <= max(rules.water["outage_min_spread"],
                                               rules.water["outage_spread"] * len(reported)):
            return _join(session, report, outage, rules)
    outage = grouping.create(session, mid, "water_outage", report.geom, report.requested_datetime, [])
    return _join(session, report, outage, rules)


def _leak(session: Session, report: Report, outages: list[Incident], rules: Rules) -> Incident:
    """A leak call that joins no burst: the outage whose dry area holds it becomes the burst (a new
    burst when none does); other outages it explains join it, calls it does not explain leave it."""
    upgraded = next((o for o in outages if report.segment_no in o.affected_segment_nos), None)
    if upgraded is not None:
        upgraded.kind = "water_main_burst"
        grouping.log(session, upgraded, "upgraded", kind="water_main_burst",
                  reason=f"leak call {report.id} inside the dry area")
        burst = _join(session, report, upgraded, rules)
    else:
        burst = grouping.create(session, report.municipality_id, "water_main_burst",
                             pipe_geom(session, report.municipality_id, report.pipe_id) or report.geom,
                             report.requested_datetime, [report.pipe_id])
        burst = _join(session, report, burst, rules)
    segments = _segments_of_calls(session, [o for o in outages if o is not upgraded])
    for outage in outages:
        if outage is not upgraded and segments[outage.id] <= set(burst.affected_segment_nos):
            grouping.absorb(session, outage, burst, why="no-water calls inside the burst's dry area")
    return burst


def _shed_unexplained(session: Session, burst: Incident, rules: Rules, reports: list[Row]) -> bool:
    """Dry calls of a burst (``reports``: all its calls) that it does not explain (their segment
    keeps its water when the break on the suspected main is isolated: an outage just became a
    burst, or the suspected main or the break moved) go on as an outage of their own, except those
    an operator put in the burst. Whether any did."""
    stray = [r for r in reports if r.service_code != "water_leak"
             and r.segment_no is not None and r.segment_no not in burst.affected_segment_nos]
    if stray:
        kept = grouping.placed_by_operator(session, burst.id)
        stray = [r for r in stray if r.id not in kept]
    if not stray:
        return False
    from geo_urp.reasoning import (
        refresh,  # the package imports this module: import at call time
    )

    outage = grouping.create(session, burst.municipality_id, "water_outage", stray[0].geom,
                          stray[0].requested_datetime, [])
    grouping.split(session, [r.id for r in stray], burst, outage,
                why=f"segments {', '.join(map(str, sorted({r.segment_no for r in stray})))} stay wet "
                    f"when the break on main {burst.asset_ids[0]} is isolated")
    shed = {r.id for r in stray}
    burst.opened_at = min(r.requested_datetime for r in reports if r.id not in shed)
    recompute(session, outage, rules)
    refresh(session, outage)
    return True


def _join(session: Session, report: Report, inc: Incident, rules: Rules) -> Incident:
    """Put the report in ``inc`` and work the incident out again."""
    grouping.attach(session, report, inc)
    reports = grouping.reports_of(session, inc)
    recompute(session, inc, rules, reports, redraw=False)
    if inc.kind == "water_main_burst":
        _shed_unexplained(session, inc, rules, reports)
    return inc


def _burst_of_leak(session: Session, bursts: list[Incident], report: Report, rules: Rules) -> Incident | None:
    """The first of ``bursts`` a leak call belongs to: on one of its suspected mains, inside its
    dry area, or within ``leak_join_m`` of the main most likely burst (a caller across the
    street); None when it belongs to none. The distances are asked of PostGIS once, for all."""
    near = None
    for burst in bursts:
        if report.pipe_id in burst.asset_ids or report.segment_no in burst.affected_segment_nos:
            return burst
        if near is None:
            near = set(session.scalars(_NEAR_MAIN, {
                "ids": [b.id for b in bursts], "pipes": [b.asset_ids[0] for b in bursts],
                "mid": report.municipality_id, "point": grouping.hexgeom(report.geom),
                "distance_m": rules.water["leak_join_m"]}))
        if burst.id in near:
            return burst
    return None


# Which of some bursts (ids, each with its most likely main) have that main within
# :distance_m of a point.
_NEAR_MAIN = text(
    "SELECT b.id FROM unnest(CAST(:ids AS bigint[]), CAST(:pipes AS text[])) AS b(id, pipe) "
    "WHERE EXISTS (SELECT 1 FROM water_pipes p WHERE p.municipality_id = :mid AND p.pipe_id = b.pipe "
    "AND ST_DWithin(p.geom, " + grouping.geom_param("point") + ", :distance_m))")


# The valve segments of the calls of some incidents, each once. Gathered in SQL: the open
# outages of a long night hold many calls, and their rows are not needed here.
_SEGMENTS_OF = text(
    "SELECT ir.incident_id, array_agg(DISTINCT r.segment_no) AS segments FROM incident_reports ir "
    "JOIN reports r ON r.municipality_id = ir.municipality_id AND r.id = ir.report_id "
    "WHERE ir.municipality_id = ANY(:mids) AND ir.incident_id = ANY(:ids) AND r.segment_no IS NOT NULL "
    "GROUP BY ir.incident_id")


def _segments_of_calls(session: Session, incidents: list[Incident]) -> dict[int, frozenset[int]]:
    """Incident id -> the valve segments of its calls, for all ``incidents`` in one query."""
    if not incidents:
        return {}
    found = {row.incident_id: frozenset(row.segments)
             for row in session.execute(_SEGMENTS_OF, {"mids": grouping.towns(incidents),
                                                       "ids": [inc.id for inc in incidents]})}
    return {inc.id: found.get(inc.id, frozenset()) for inc in incidents}


def recompute(session: Session, inc: Incident, rules: Rules, reports: list[Row] | None = None,
              redraw: bool = True) -> Incident:
    """Suspected pipes, valves, dry area, geometry and address count from the incident's calls
    (also after an operator's merge or move); ``reports``: those calls, when already read.

    ``redraw=False``: the geometry is drawn again only when what it shows changed (the
    suspected main, the dry segments, the kind), for a call that has just joined an incident
    drawn by this function; an operator's merge or move redraws always.
    """
    if reports is None:
        reports = grouping.reports_of(session, inc)
    mid = inc.municipality_id
    was = (inc.kind, list(inc.asset_ids[:1]), list(inc.affected_segment_nos))
    leaks = [r for r in reports if r.service_code == "water_leak" and r.pipe_id]
    if inc.kind == "water_main_burst" and not leaks:  # its leak calls were moved out: an outage again
        inc.kind = "water_outage"
        grouping.log(session, inc, "downgraded", kind="water_outage", reason="no leak call left")
    elif inc.kind == "water_outage" and leaks:  # an operator moved a leak call in: a burst now
        inc.kind = "water_main_burst"
        grouping.log(session, inc, "upgraded", kind="water_main_burst",
                  reason=f"leak call {leaks[0].id} on main {leaks[0].pipe_id}")
    if inc.kind == "water_main_burst":
        counts = Counter(r.pipe_id for r in leaks)
        first = {}
        for r in leaks:
            first.setdefault(r.pipe_id, r.requested_datetime)
        suspects = sorted(counts, key=lambda p: (-counts[p], first[p], p))
        suspects, iso = _isolation(session, mid, suspects, leaks)
        if inc.asset_ids and inc.asset_ids[0] != suspects[0]:
            grouping.log(session, inc, "suspected main changed", main=suspects[0], was=inc.asset_ids[0],
                      reason=f"{counts[suspects[0]]} leak call(s) on main {suspects[0]}")
        inc.asset_ids = suspects
        inc.valves_to_close = list(iso.valves_to_close)
        inc.affected_segment_nos = list(iso.affected_segment_nos)
        if redraw or was[:2] != ("water_main_burst", suspects[:1]):  # drawn as its suspected main
            inc.geom = pipe_geom(session, mid, suspects[0])
    else:
        reported = {r.segment_no for r in reports if r.segment_no is not None}
        inc.asset_ids = []
        inc.valves_to_close = []
        inc.affected_segment_nos = sorted(explaining_segments(session, mid, frozenset(reported)))
        if redraw or was[0] != "water_outage" or was[2] != inc.affected_segment_nos or not reported:
            inc.geom = session.execute(text(
                "SELECT ST_Multi(ST_Union(geom)) FROM water_valve_segments WHERE municipality_id = :mid "
                "AND segment_no = ANY(:s)"), {"mid": mid, "s": inc.affected_segment_nos}).scalar() or reports[0].geom
    served = addresses_per_segment(session, mid, rules.water["address_buffer_m"])
    inc.affected_addresses = sum(served.get(no, 0) for no in inc.affected_segment_nos)
    session.flush()
    return inc


def pipe_geom(session: Session, mid: int, pipe_id: str):
    """A main's line, how a burst is drawn (hex EWKB; None for a main the layers do not have)."""
    return session.execute(text("SELECT geom FROM water_pipes WHERE municipality_id = :mid AND pipe_id = :p"),
                           {"mid": mid, "p": pipe_id}).scalar()


def _isolation(session: Session, mid: int, suspects: list[str], leaks: list[Row]):
    """The suspected mains still in the layers (the first of them most likely burst) and the
    isolation of the break on it, placed by its leak calls (``leak_segment``): a main the layers
    no longer have (they were replaced, the call not snapped again) gives way to the next.
    ``NotFound`` when none is left."""
    for n, pipe in enumerate(suspects):
        try:
            segment = leak_segment(session, mid, pipe, [r.id for r in leaks if r.pipe_id == pipe])
            if segment is None:
                return suspects[n:], isolate_pipes(session, mid, pipe)
            return suspects[n:], isolate_break(session, mid, pipe, segment)
        except NotFound:
            if n == len(suspects) - 1:
                raise


# The part of main ``w`` nearest its point at fraction {f} along it: where a break at that spot
# lies (a spot on a valve, where two parts meet, goes to the first of them along the main).
_PART_AT = ("SELECT p.segment_no, p.geom FROM water_pipe_parts p WHERE p.municipality_id = w.municipality_id "
            "AND p.pipe_id = w.pipe_id ORDER BY ST_Distance(p.geom, ST_LineInterpolatePoint(w.geom, {f})), p.seq "
            "LIMIT 1")
# The valve segment of the break on main :pipe: at the median of where the calls :ids fall along it.
_LEAK_SEGMENT = text(
    "SELECT part.segment_no FROM water_pipes w "
    "CROSS JOIN LATERAL (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ST_LineLocatePoint(w.geom, r.geom))"
    " AS f FROM reports r WHERE r.municipality_id = w.municipality_id AND r.id = ANY(:ids)) AS at "
    "CROSS JOIN LATERAL (" + _PART_AT.format(f="at.f") + ") AS part "
    "WHERE w.municipality_id = :mid AND w.pipe_id = :pipe AND at.f IS NOT NULL")
# For points :xs, :ys (metric) on main :pipe, in order: the valve segment of a break at each, and
# how far along the main the point is from the ends of the part holding it.
_BREAKS_AT = text(
    "SELECT part.segment_no, least(abs(t.f - ST_LineLocatePoint(w.geom, ST_StartPoint(part.geom))),"
    " abs(ST_LineLocatePoint(w.geom, ST_EndPoint(part.geom)) - t.f)) * ST_Length(w.geom) AS clear_m "
    "FROM water_pipes w CROSS JOIN LATERAL (SELECT u.ord, ST_LineLocatePoint(w.geom, ST_SetSRID("
    " ST_MakePoint(u.x, u.y), ST_SRID(w.geom))) AS f FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[]))"
    " WITH ORDINALITY AS u(x, y, ord)) AS t "
    "CROSS JOIN LATERAL (" + _PART_AT.format(f="t.f") + ") AS part "
    "WHERE w.municipality_id = :mid AND w.pipe_id = :pipe ORDER BY t.ord")


def leak_segment(session: Session, mid: int, pipe_id: str, report_ids: list[int]) -> int | None:
    """The valve segment of main ``pipe_id`` holding the break its leak calls ``report_ids`` point at.

    Each call is projected onto the main and the break is put at the median of those
    positions: callers stand round the spot where water comes up, and the median keeps
    to where most of them are when one stands farther along the street, where a centroid
    would follow that one (on a bent main the centroid's projection can also fall where
    no caller is). Asked of PostGIS, where the geometries are. None without calls or main.
    """
    if not report_ids:
        return None
    return session.scalar(_LEAK_SEGMENT, {"mid": mid, "pipe": pipe_id, "ids": list(report_ids)})


def breaks_at(session: Session, mid: int, pipe_id: str, points: list[tuple[float, float]]) -> list[Row]:
    """For each of ``points`` (metric x, y) on main ``pipe_id``, in order: ``segment_no``, the valve
    segment a break there lies in (the rule ``leak_segment`` places a break by), and ``clear_m``,
    how far along the main the point is from the ends of the part of the main holding it (a
    valve, or the main's own end). Empty for a main the layers do not have."""
    if not points:
        return []
    return session.execute(_BREAKS_AT, {"mid": mid, "pipe": pipe_id, "xs": [float(x) for x, _ in points],
                                        "ys": [float(y) for _, y in points]}).all()


def addresses_per_segment(session: Session, mid: int, buffer_m: float) -> dict[int, int]:
    """How many civic numbers each valve segment serves: each address counts once, for the
    segment of its nearest main within ``buffer_m``. One KNN query per loaded network, then cached."""
    return layer_cache.cached(session, mid, f"addresses per segment within {buffer_m} m", lambda: dict(
        session.execute(text(
            "SELECT p.segment_no, count(*) FROM addresses a CROSS JOIN LATERAL ("
            " SELECT segment_no, geom FROM water_pipe_parts WHERE municipality_id = :mid"
            " ORDER BY geom <-> a.geom LIMIT 1) p "
            "WHERE a.municipality_id = :mid AND ST_DWithin(p.geom, a.geom, :d) GROUP BY p.segment_no"),
            {"mid": mid, "d": buffer_m}).all()))


def explaining_segments(session: Session, mid: int, reported: frozenset[int]) -> set[int]:
    """The smallest area one failure would leave dry that holds every reported segment.

    Each segment is tried as the failed one (its isolation's dry area); the
    smallest area covering all reported segments wins. When no single failure
    explains them all, the reported segments themselves are the outage.
    """
    if not reported:
        return set()
    best = _smallest_dry_area(session, mid, reported)
    return set(best) if best is not None else set(reported)


def _smallest_dry_area(session: Session, mid: int, reported: frozenset[int]) -> frozenset[int] | None:
    """The smallest dry area of a single failure holding every reported segment, or None."""
    best: frozenset[int] | None = None
    areas = dry_areas(session, mid)
    for candidate in areas.segments:
        dry = areas.of(candidate)
        if reported <= dry and (best is None or len(dry) < len(best)):
            best = dry
    return best


def describe(session: Session, inc: Incident, reports: list[Row]) -> tuple[words.Part, float]:
    """The sentence for the operator (a message part, ``words``), and the confidence."""
    leaks = [r for r in reports if r.service_code == "water_leak"]
    dry = [r for r in reports if r.service_code != "water_leak"]
    streets = grouping.street_names(reports)
    head = words.part("head", calls=words.calls(len(reports)), span=words.span([r.requested_datetime for r in reports]))
    where = words.part("from", streets=words.places(streets)) if streets else ""
    if inc.kind == "water_main_burst":
        what = (words.part("leak_and_dry_calls", n=len(leaks), dry=len(dry)) if dry
                else words.part("leak_calls", n=len(leaks)))
        valves = (words.part("close_valves", n=len(inc.valves_to_close), valves=words.ids(inc.valves_to_close))
                  if inc.valves_to_close else words.part("no_operable_valve"))
        return (words.part("burst", head=head, where=where, what=what, main=inc.asset_ids[0], valves=valves,
                           addresses=inc.affected_addresses or 0),
                min(0.95, 0.55 + 0.1 * len(leaks) + 0.05 * len(dry)))
    return (words.part("outage", head=head, where=where, n=len(inc.affected_segment_nos),
                       addresses=inc.affected_addresses or 0),
            min(0.85, 0.4 + 0.08 * len(reports)))
