"""``reading.audit``: newest first, each filter, the municipality a reader is bound to, keyset pages,
and bad parameters refused naming the parameter."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from geo_urp.errors import BadInput, Forbidden, NotFound
from geo_urp.models import AuditEntry, Municipality
from geo_urp.reading import audit

T = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)


@pytest.fixture()
def trail(session) -> dict:
    """Two towns and six entries, one a minute from T: name -> entry id (and the towns' ids)."""
    uno, due = Municipality(slug="uno", name="Uno"), Municipality(slug="due", name="Due")
    session.add_all([uno, due])
    session.flush()
    rows = {
        "assigned": AuditEntry(at=T, municipality_id=uno.id, actor="system", action="crew assigned",
                               object_type="incident", object_id=7, detail={"crew_id": "ACQUA"}),
        "status": AuditEntry(at=T + timedelta(minutes=1), municipality_id=uno.id, actor="user:anna",
                             action="status", object_type="incident", object_id=7, detail={"to": "in_progress"}),
        "moved": AuditEntry(at=T + timedelta(minutes=2), municipality_id=uno.id, actor="user:anna",
                            action="moved", object_type="report", object_id=7, detail={"to_incident": 8}),
        "queued": AuditEntry(at=T + timedelta(minutes=3), municipality_id=due.id, actor="key:gu_abc",
                             action="closing queued", object_type="outbox", object_id=1, detail={}),
        "viewed": AuditEntry(at=T + timedelta(minutes=4, microseconds=250), municipality_id=due.id,
                             actor="user:anna", action="contact viewed", object_type="report", object_id=3, detail={}),
        "system": AuditEntry(at=T + timedelta(minutes=5), municipality_id=None, actor="system",
                             action="erased", object_type="contact", object_id=2, detail={}),
    }
    session.add_all(rows.values())
    session.flush()
    return {"uno": uno.id, "due": due.id, **{name: row.id for name, row in rows.items()}}


def _names(session, trail, args: dict, bound_to: str | None = None) -> list[str]:
    ids = {v: k for k, v in trail.items() if k not in ("uno", "due")}
    got = audit.entries(session, args, trail[bound_to] if bound_to else None)
    return [ids[item["id"]] for item in got["items"]]


NEWEST_FIRST = ["system", "viewed", "queued", "moved", "status", "assigned"]


@pytest.mark.parametrize("args, expected", [
    ({}, NEWEST_FIRST),
    ({"jurisdiction_id": "uno"}, ["moved", "status", "assigned"]),
    ({"object_type": "incident"}, ["status", "assigned"]),
    ({"object_type": "report", "object_id": "7"}, ["moved"]),
    ({"object_id": "7"}, ["moved", "status", "assigned"]),
    ({"actor": "user:anna"}, ["viewed", "moved", "status"]),
    ({"action": "contact viewed"}, ["viewed"]),
    ({"since": "2026-03-10T10:02:00+01:00"}, ["system", "viewed", "queued", "moved"]),    # both ends included
    ({"until": "2026-03-10T09:02:00Z"}, ["moved", "status", "assigned"]),
    ({"since": "2026-03-10T09:01:00Z", "until": "2026-03-10T09:03:00Z", "actor": "user:anna"}, ["moved", "status"]),
    ({"object_type": "lamp"}, []),
])
def test_each_filter_narrows_the_newest_first_list(session, trail, args, expected):
    assert _names(session, trail, args) == expected


def test_a_reader_bound_to_a_town_sees_only_its_entries(session, trail):
    assert _names(session, trail, {}, bound_to="due") == ["viewed", "queued"]   # not the entry of no town
    assert _names(session, trail, {"jurisdiction_id": "due"}, bound_to="due") == ["viewed", "queued"]
    with pytest.raises(Forbidden):
        audit.entries(session, {"jurisdiction_id": "uno"}, trail["due"])
    with pytest.raises(NotFound, match="jurisdiction_id 'tre'"):
        audit.entries(session, {"jurisdiction_id": "tre"})


def test_an_entry_reads_with_its_town_slug_and_its_time_to_the_microsecond(session, trail):
    item, = audit.entries(session, {"action": "contact viewed"})["items"]
    assert item == {"id": trail["viewed"], "at": "2026-03-10T09:04:00.000250+00:00", "municipality": "due",
                    "actor": "user:anna", "action": "contact viewed", "object_type": "report", "object_id": 3,
                    "detail": {}}
    # the time shown, handed back as either end of the window, takes the entry in
    assert _names(session, trail, {"since": item["at"], "until": item["at"]}) == ["viewed"]
    assert audit.entries(session, {"object_type": "contact"})["items"][0]["municipality"] is None


def test_keyset_pages_give_every_entry_once_even_when_times_tie(session, trail):
    session.add_all([AuditEntry(at=T + timedelta(minutes=2), municipality_id=trail["uno"], actor="system",
                                action="tie", object_type="incident", object_id=n, detail={}) for n in range(3)])
    session.flush()
    whole = audit.entries(session, {})
    assert whole["next_before"] is None
    seen, args = [], {"limit": "2"}
    while True:
        page = audit.entries(session, args)
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        if page["next_before"] is None:
            break
        args = {"limit": "2", "before": str(page["next_before"])}
    assert seen == [item["id"] for item in whole["items"]] and len(seen) == 9
    ties = [item["object_id"] for item in whole["items"] if item["action"] == "tie"]
    assert ties == [2, 1, 0]                                          # same time: the later entry first


def test_a_page_holds_100_entries_unless_asked_for_more(session, trail):
    session.add_all([AuditEntry(at=T, municipality_id=None, actor="system", action="bulk", object_type="incident",
                                object_id=n, detail={}) for n in range(120)])
    session.flush()
    first = audit.entries(session, {})
    assert len(first["items"]) == audit.DEFAULT_LIMIT == 100 and first["next_before"] == first["items"][-1]["id"]
    every = audit.entries(session, {"limit": str(audit.MAX_LIMIT)})
    assert len(every["items"]) == 126 and every["next_before"] is None


@pytest.mark.parametrize("args, field", [
    ({"since": "yesterday"}, "since"),
    ({"since": "2026-03-10T09:00:00"}, "since"),                  # no offset
    ({"until": "2026-03-10T09:00:00 01:00"}, "until"),            # a + sent unencoded
    ({"limit": "0"}, "limit"),
    ({"limit": "1001"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"limit": "-5"}, "limit"),
    ({"object_id": "x7"}, "object_id"),
    ({"object_id": str(2**63)}, "object_id"),
    ({"before": "abc"}, "before"),
    ({"before": "987654321"}, "before"),                          # no such entry
    ({"since": "2026-03-10T10:00:00Z", "until": "2026-03-10T09:00:00Z"}, "until"),
])
def test_a_bad_parameter_is_refused_naming_it(session, trail, args, field):
    with pytest.raises(BadInput) as caught:
        audit.entries(session, args)
    assert field in caught.value.message
    assert field in [d["field"] for d in caught.value.details]
