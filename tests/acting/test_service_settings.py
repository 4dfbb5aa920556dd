"""``acting.service_settings``: a town's own public flag and SLA hours for a service, checked whole,
audited, and read by the public view, the council's maps and the service levels."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from geo_urp.accounts import Principal
from geo_urp.acting import service_levels
from geo_urp.acting.service_settings import set_service
from geo_urp.catalog import catalog_for
from geo_urp.errors import BadInput, Forbidden
from geo_urp.models import AuditEntry, Municipality
from geo_urp.reading import privacy

ADA = Principal(role="admin", name="user:ada")


def _settings(session, mid):
    return session.get(Municipality, mid).service_settings


def test_a_service_made_private_leaves_the_public_view_and_back_again(session, borgo):
    catalog = catalog_for(session, borgo)
    assert "noise" in privacy.public_services(catalog, _settings(session, borgo))
    set_service(session, ADA, "borgo", "noise", False, None)
    assert _settings(session, borgo) == {"noise": {"public": False}}
    assert "noise" not in privacy.public_services(catalog, _settings(session, borgo))
    assert "noise" not in privacy.council_services(catalog, _settings(session, borgo))
    set_service(session, ADA, "borgo", "noise", True, None)
    assert _settings(session, borgo) == {}  # as the catalog says: nothing of its own


def test_sla_hours_of_the_town_set_the_due_time_and_the_change_is_audited(session, borgo):
    set_service(session, ADA, "borgo", "road_damage", True, 12)
    set_service(session, ADA, "borgo", "social_distress", True, None)  # public, unlike the catalog
    assert _settings(session, borgo) == {"road_damage": {"sla_hours": 12.0}, "social_distress": {"public": True}}
    at = datetime(2026, 3, 1, 8, tzinfo=timezone.utc)
    assert (service_levels.expected_at(_settings(session, borgo), "road_damage", at) - at).total_seconds() == 12 * 3600
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "service settings")
                              .order_by(AuditEntry.id)).all()
    assert [(e.actor, e.detail["service_code"], e.detail["after"]) for e in entries] == [
        ("user:ada", "road_damage", {"sla_hours": 12.0}), ("user:ada", "social_distress", {"public": True})]


@pytest.mark.parametrize("code, public, hours, field", [
    ("nope", True, None, "service_code"), ("", True, None, "service_code"),
    ("noise", "no", None, "public"), ("noise", True, -1, "sla_hours"), ("noise", True, 10**7, "sla_hours")])
def test_a_bad_setting_is_refused_naming_it_and_changes_nothing(session, borgo, code, public, hours, field):
    with pytest.raises(BadInput) as refused:
        set_service(session, ADA, "borgo", code, public, hours)
    assert field in str(refused.value) or field in str(refused.value.details)
    assert _settings(session, borgo) == {}


def test_an_admin_of_another_town_may_not(session, borgo):
    other = Municipality(slug="altrove", name="Altrove")
    session.add(other)
    session.flush()
    with pytest.raises(Forbidden):
        set_service(session, Principal(role="admin", municipality_id=other.id, name="user:bruno"), "borgo", "noise",
                    False, None)
