"""The default service list (SPEC §3) and the checking of attribute answers."""
from __future__ import annotations

import pytest

from geo_urp.catalog import (
    DATATYPES,
    DEFAULT_CATALOG,
    NETWORKS,
    Attribute,
    Service,
    catalog_for,
    service_for,
)
from geo_urp.errors import BadInput

SPEC_3 = {  # code: (name, skill, network)
    "streetlight_out": ("Lampione spento / via al buio", "lighting", "lighting"),
    "no_water": ("Mancanza d'acqua", "water", "water"),
    "low_pressure": ("Acqua con poca pressione", "water", "water"),
    "water_leak": ("Perdita d'acqua in strada", "water", "water"),
    "flooding": ("Allagamento", "drains", "streets"),
    "road_damage": ("Buca o danno stradale", "roads", "streets"),
    "noise": ("Disturbo della quiete pubblica", None, None),
    "social_distress": ("Situazione di disagio", "social", None),
    "info_request": ("Richiesta di informazioni", None, None),
}


def _skills_sent(code: str) -> set[str | None]:
    """The crew skills the incidents a service's calls make are sent to (None: no crew, or no incident)."""
    from geo_urp.reasoning import clusters, family, lighting, responsibility, water
    from geo_urp.reasoning.rules import rules_for

    if not rules_for(None).makes_incident(code):
        return {None}
    kinds = {"lighting": lighting.KINDS, "water": water.KINDS}.get(family(code), (clusters.kind_for(code),))
    return {responsibility.SKILL[kind] for kind in kinds}


@pytest.mark.parametrize("code", SPEC_3)
def test_default_list_has_the_spec_services_dispatched_to_the_spec_skill(code):
    service = catalog_for(None, None).get(code)
    name, skill, network = SPEC_3[code]
    assert (service.name, service.network) == (name, network)
    assert _skills_sent(code) == {skill}
    assert service.group and service.keywords and service.agency
    assert service.network in NETWORKS + (None,)
    assert all(a.datatype in DATATYPES for a in service.attributes)
    assert all(a.values for a in service.attributes if a.datatype.endswith("valuelist"))


def test_no_water_asks_whole_street_or_house():
    extent = next(a for a in DEFAULT_CATALOG.get("no_water").attributes if a.code == "extent")
    assert "tutta la via" in extent.description.lower() and {"casa", "via"} <= {k for k, _ in extent.values}


COLOURS = Attribute("colours", "multivaluelist", "Colori", values=(("r", "Rosso"), ("g", "Verde")))


@pytest.mark.parametrize("attribute, raw, expected", [
    (COLOURS, ["r", "g", "r"], ["r", "g"]),
    (COLOURS, "g,r", ["g", "r"]),
    (Attribute("n", "number", "Quanti"), "3.5", 3.5),
    (Attribute("t", "string", "Testo"), "  ciao ", "ciao"),
    (Attribute("d", "datetime", "Quando"), "2026-11-27T21:30:00+01:00", "2026-11-27T21:30:00+01:00"),
    (Attribute("s", "singlevaluelist", "Uno", values=(("a", "A"),)), ["a"], "a"),
])
def test_attribute_answers(attribute, raw, expected):
    assert attribute.clean(raw) == expected


@pytest.mark.parametrize("attribute, raw", [
    (COLOURS, ["r", "blu"]),
    (Attribute("n", "number", "Quanti"), "tre"),
    (Attribute("d", "datetime", "Quando"), "ieri sera"),
    (Attribute("s", "singlevaluelist", "Uno", values=(("a", "A"),)), ["a", "a"]),
    (Attribute("t", "string", "Testo"), "x" * 501),
])
def test_bad_attribute_answers(attribute, raw):
    with pytest.raises(BadInput, match=attribute.code):
        attribute.clean(raw)


def test_required_attribute():
    service = Service("x", "X", "", "G", (), None, None, "A",
                      attributes=(Attribute("must", "string", "Serve", required=True),))
    with pytest.raises(BadInput, match="attribute\\[must\\] is required"):
        service.clean_attributes({})
    assert service.clean_attributes({"must": "sì"}) == {"must": "sì"}


@pytest.mark.parametrize("code, message", [(None, "service_code is required"), ("", "service_code is required"),
                                           ("potholes", "'potholes' is not offered")])
def test_service_for_refuses(code, message):
    with pytest.raises(BadInput, match=message):
        service_for(None, None, code)
