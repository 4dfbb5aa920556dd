"""Where the fix is, which crew area holds it, which crew goes (``reasoning/responsibility.py``):
the area x skill rule, and a crew already sent staying on the job."""
from __future__ import annotations

from sqlalchemy import select

from geo_urp.models import IncidentEvent


def test_noise_has_no_crew_and_says_so(session, borgo, call):
    _, inc = call("noise", 0, at=(300, 510))
    assert inc.kind == "noise" and inc.crew_id is None and "local police" in inc.explanation


def test_a_crew_already_sent_stays_on_the_job_as_the_incident_grows(session, borgo, call):
    _, flood = call("flooding", 0, at=(480, 310))
    flood.status, flood.crew_id = "assigned", "FOGNE-2"           # the dispatcher chose this crew
    session.flush()
    _, same = call("flooding", 10, at=(500, 330))
    assert same.id == flood.id and flood.crew_id == "FOGNE-2" and flood.status == "assigned"


def test_every_change_of_crew_is_in_the_history(session, borgo, call):
    _, burst = call("water_leak", 0, pipe="P4")
    lines = session.scalars(select(IncidentEvent.detail).where(
        IncidentEvent.incident_id == burst.id, IncidentEvent.action == "crew assigned")).all()
    assert lines == [{"crew_id": "ACQUA", "was": None, "area_id": burst.area_id}]
