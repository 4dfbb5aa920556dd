"""The rules' own choices (``reasoning/rules.py``) as calls see them: which services make no
incident, whatever a town lists."""
from __future__ import annotations

import json

from sqlalchemy import text

from geo_urp.models import IncidentReport


def test_information_requests_make_no_incident(session, borgo, call):
    r, inc = call("info_request", 0, at=(300, 510))
    assert inc is None and session.get(IncidentReport, r.id) is None


def test_information_requests_make_no_incident_whatever_the_town_lists(session, borgo, call):
    session.execute(text("UPDATE municipalities SET rules = :r WHERE id = :m"),
                    {"r": json.dumps({"no_incident": ["noise"]}), "m": borgo})
    session.expire_all()
    info, inc = call("info_request", 0, at=(100, 500))
    noise, inc2 = call("noise", 0, at=(100, 500))
    assert inc is None and inc2 is None
    assert session.get(IncidentReport, info.id) is None and session.get(IncidentReport, noise.id) is None
