"""The service list (SPEC §3): what a caller can report, who handles it, what the crew needs.

Each ``Service`` is an Open311 service: a code, an Italian name, a group and
keywords for the operator's search, the network
its reports are snapped to, and the extra questions (Open311 attributes) whose
answers help the crew ("whole street or only this house?"). A service that is not
``public`` (social distress) is offered and taken as any other, but its reports are
left out of the public Open311 view, as FixMyStreet's non-public categories are; a
town may say otherwise for each service in ``municipalities.service_settings``
(``{"noise": {"public": false}}``, read by ``reading.privacy.is_public``).

``catalog_for(session, municipality_id)`` is the one place that says which list
a municipality uses. Today every municipality gets ``DEFAULT_CATALOG``; a
per-municipality list stored in the database later replaces only that function.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from geo_urp.errors import BadInput
from geo_urp.language import N_

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
NETWORKS = ("lighting", "water", "streets")
MAX_ATTRIBUTE_LENGTH = 500


@dataclass(frozen=True)
class Attribute:
    """One extra question of a service (an Open311 service-definition attribute)."""

    code: str
    datatype: str
    description: str
    required: bool = False
    order: int = 1
    datatype_description: str | None = None
    values: tuple[tuple[str, str], ...] = ()  # (key, name) for the list datatypes
    variable: bool = True  # False: shown as information only, no answer expected

    def as_open311(self) -> dict:
        """The attribute as the Open311 service definition lists it."""
        out = {"variable": self.variable, "code": self.code, "datatype": self.datatype,
               "required": self.required, "datatype_description": self.datatype_description,
               "order": self.order, "description": self.description}
        if self.values:
            out["values"] = [{"key": key, "name": name} for key, name in self.values]
        return out

    def clean(self, raw: str | list[str]) -> str | list[str] | float:
        """The answer checked against the datatype; ``BadInput`` naming the attribute otherwise."""
        where = f"attribute[{self.code}]"
        keys = [key for key, _ in self.values]
        if self.datatype == "multivaluelist":
            chosen = raw if isinstance(raw, list) else [v for v in str(raw).split(",") if v]
            wrong = [v for v in chosen if v not in keys]
            if wrong:
                raise BadInput(f"{where}: {', '.join(map(repr, wrong))} not among {', '.join(keys)}",
                               details=[{"field": where, "value": wrong, "expected": keys}])
            return list(dict.fromkeys(chosen))
        if isinstance(raw, list):
            if len(raw) != 1:
                raise BadInput(f"{where} takes one value, not {len(raw)}", details=[{"field": where}])
            raw = raw[0]
        value = str(raw).strip()
        if len(value) > MAX_ATTRIBUTE_LENGTH:
            raise BadInput(f"{where} is {len(value)} characters long; at most {MAX_ATTRIBUTE_LENGTH}",
                           details=[{"field": where}])
        if self.datatype == "singlevaluelist" and value not in keys:
            raise BadInput(f"{where}: {value!r} is not one of {', '.join(keys)}",
                           details=[{"field": where, "value": value, "expected": keys}])
        if self.datatype == "number":
            try:
                return float(value)
            except ValueError:
                raise BadInput(f"{where} must be a number, not {value!r}",
                               details=[{"field": where, "value": value}]) from None
        if self.datatype == "datetime":
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise BadInput(f"{where} must be an ISO 8601 date-time, not {value!r}",
                               details=[{"field": where, "value": value}]) from None
        return value


@dataclass(frozen=True)
class Service:
    """An Open311 service with what dispatch and snapping need to know about it."""

    code: str
    name: str
    description: str
    group: str
    keywords: tuple[str, ...]
    network: str | None        # one of NETWORKS: what the report's point is snapped to
    agency: str                # Open311 agency_responsible
    notice: str | None = None  # Open311 service_notice, told to the caller on submission
    attributes: tuple[Attribute, ...] = ()
    type: str = "realtime"
    public: bool = True        # False: its reports are not in the public Open311 view

    @property
    def metadata(self) -> bool:
        """True when the service has extra questions (Open311 ``metadata``)."""
        return bool(self.attributes)

    def as_open311(self) -> dict:
        """The service as ``GET services`` lists it."""
        return {"service_code": self.code, "service_name": self.name, "description": self.description,
                "metadata": self.metadata, "type": self.type, "keywords": ", ".join(self.keywords),
                "group": self.group}

    def definition(self) -> dict:
        """The Open311 service definition: its attributes in order."""
        attrs = sorted(self.attributes, key=lambda a: a.order)
        return {"service_code": self.code, "attributes": [a.as_open311() for a in attrs]}

    def clean_attributes(self, raw: Mapping[str, str | list[str]]) -> dict:
        """The caller's answers, checked: unknown codes, missing required ones and bad values are ``BadInput``."""
        known = {a.code: a for a in self.attributes}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            expected = ", ".join(known) or "none"
            raise BadInput(f"service {self.code!r} has no attribute {', '.join(unknown)} (it has: {expected})",
                           details=[{"field": f"attribute[{code}]"} for code in unknown])
        out: dict = {}
        for attr in self.attributes:
            value = raw.get(attr.code)
            if value in (None, "", []):
                if attr.required:
                    raise BadInput(f"attribute[{attr.code}] is required for {self.code!r}: {attr.description}",
                                   details=[{"field": f"attribute[{attr.code}]"}])
                continue
            out[attr.code] = attr.clean(value)
        return out


@dataclass(frozen=True)
class Catalog:
    """A municipality's service list, looked up by code."""

    services: tuple[Service, ...]
    _by_code: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", {s.code: s for s in self.services})

    def get(self, code: str) -> Service | None:
        """The service with ``code``, or None."""
        return self._by_code.get(code)

    @property
    def codes(self) -> list[str]:
        """Every service code, in list order."""
        return [s.code for s in self.services]


def _yes_no(code: str, description: str, order: int, required: bool = False) -> Attribute:
    return Attribute(code, "singlevaluelist", description, required, order,
                     values=(("si", "Sì"), ("no", "No"), ("non_so", "Non so")))


_SINCE = Attribute("since", "datetime", "Da quando? (data e ora, anche approssimative)", order=3,
                   datatype_description="ISO 8601, per esempio 2026-11-27T21:30:00+01:00")
_WATER_EXTENT = Attribute(
    "extent", "singlevaluelist", "Riguarda tutta la via o solo questa casa?", order=1,
    values=(("casa", "Solo questa casa o appartamento"), ("palazzo", "Tutto il palazzo"),
            ("via", "Tutta la via o il vicinato"), ("non_so", "Non so")))

DEFAULT_SERVICES: tuple[Service, ...] = (
    Service("streetlight_out", N_("Lampione spento / via al buio"),
            "Uno o più lampioni spenti, intermittenti o accesi di giorno.", N_("Illuminazione pubblica"),
            ("lampione", "luce", "buio", "illuminazione", "palo"), "lighting",
            "Comune - Illuminazione pubblica",
            attributes=(
                Attribute("extent", "singlevaluelist", "Quanti lampioni sono spenti?", order=1,
                          values=(("uno", "Un solo lampione"), ("alcuni", "Alcuni lampioni vicini"),
                                  ("via", "Tutta la via al buio"))),
                Attribute("state", "singlevaluelist", "Come si presenta?", order=2,
                          values=(("spento", "Spento"), ("intermittente", "Si accende e si spegne"),
                                  ("acceso_di_giorno", "Acceso di giorno"))),
                Attribute("lamp_code", "string", "Numero o codice scritto sul palo, se visibile", order=3),
            )),
    Service("no_water", N_("Mancanza d'acqua"), "Dal rubinetto non esce acqua.", N_("Acquedotto"),
            ("acqua", "rubinetto", "senz'acqua", "acquedotto"), "water", "Comune - Servizio idrico",
            attributes=(_WATER_EXTENT,
                        _yes_no("neighbours_asked", "I vicini hanno lo stesso problema?", 2), _SINCE)),
    Service("low_pressure", N_("Acqua con poca pressione"), "L'acqua esce dal rubinetto con poca forza.",
            N_("Acquedotto"),
            ("pressione", "acqua", "rubinetto", "acquedotto"), "water", "Comune - Servizio idrico",
            attributes=(_WATER_EXTENT,
                        _yes_no("neighbours_asked", "I vicini hanno lo stesso problema?", 2), _SINCE)),
    Service("water_leak", N_("Perdita d'acqua in strada"), "Acqua che esce dall'asfalto, da un tombino o da un muro.",
            N_("Acquedotto"), ("perdita", "tubo", "rotto", "acqua", "zampillo", "allagata"), "water",
            "Comune - Servizio idrico",
            attributes=(
                Attribute("size", "singlevaluelist", "Quanta acqua esce?", order=1,
                          values=(("chiazza", "Una chiazza umida o poche gocce"),
                                  ("rivolo", "Un rivolo continuo"),
                                  ("zampillo", "Uno zampillo, esce con forza"))),
                Attribute("where", "singlevaluelist", "Dove esce?", order=2,
                          values=(("strada", "Dalla strada"), ("marciapiede", "Dal marciapiede"),
                                  ("tombino", "Da un tombino o pozzetto"),
                                  ("privato", "Da una proprietà privata"))),
                _yes_no("traffic_danger", "È un pericolo per il traffico o i pedoni?", 3),
            )),
    Service("flooding", N_("Allagamento"), "Strada, sottopasso o cantina pubblica allagati.",
            N_("Strade e fognature"),
            ("allagamento", "acqua alta", "tombino", "pioggia", "sottopasso"), "streets",
            "Comune - Fognature e acque meteoriche",
            attributes=(
                Attribute("depth", "singlevaluelist", "Quanto è alta l'acqua?", order=1,
                          values=(("pozzanghera", "Pozzanghera"), ("caviglia", "Fino alla caviglia"),
                                  ("ginocchio", "Fino al ginocchio o più"))),
                _yes_no("drain_blocked", "Il tombino o la caditoia sembra ostruito?", 2),
                _yes_no("people_at_risk", "Ci sono persone o veicoli in pericolo?", 3),
            )),
    Service("road_damage", N_("Buca o danno stradale"), "Buca, avvallamento, tombino rotto o segnaletica danneggiata.",
            N_("Strade e fognature"), ("buca", "asfalto", "strada", "marciapiede", "tombino", "cartello"),
            "streets", "Comune - Manutenzione strade",
            attributes=(
                Attribute("kind", "singlevaluelist", "Che tipo di danno?", order=1,
                          values=(("buca", "Buca"), ("avvallamento", "Avvallamento o cedimento"),
                                  ("tombino", "Tombino rotto o sollevato"),
                                  ("segnaletica", "Segnaletica danneggiata"), ("altro", "Altro"))),
                _yes_no("traffic_danger", "È un pericolo per il traffico o i pedoni?", 2),
            )),
    Service("noise", N_("Disturbo della quiete pubblica"), "Rumore molesto, soprattutto di notte.",
            N_("Sicurezza e quiete"),
            ("rumore", "musica", "schiamazzi", "quiete", "notte"), None, "Polizia locale",
            notice="La segnalazione è inoltrata alla Polizia locale.",
            attributes=(
                Attribute("source", "singlevaluelist", "Da dove viene il rumore?", order=1,
                          values=(("musica", "Musica"), ("festa", "Festa o schiamazzi"),
                                  ("lavori", "Lavori o cantiere"), ("veicoli", "Veicoli"),
                                  ("animali", "Animali"), ("altro", "Altro"))),
                _yes_no("ongoing", "Il rumore è ancora in corso?", 2),
            )),
    Service("social_distress", N_("Situazione di disagio"), "Una persona in difficoltà che ha bisogno di aiuto.",
            N_("Servizi sociali"), ("disagio", "anziano", "solo", "senza dimora", "aiuto"), None,
            "Comune - Servizi sociali",
            notice="In caso di pericolo immediato per la vita chiamare il 112.", public=False,
            attributes=(
                _yes_no("immediate_danger", "La persona è in pericolo immediato?", 1),
                Attribute("situation", "singlevaluelist", "Che situazione?", order=2,
                          values=(("anziano_solo", "Anziano solo"), ("senza_dimora", "Persona senza dimora"),
                                  ("minore", "Minore"), ("altro", "Altro"))),
            )),
    Service("info_request", N_("Richiesta di informazioni"), "Una domanda sui servizi del Comune.", N_("Informazioni"),
            ("informazioni", "orari", "uffici", "domanda"), None, "Comune - URP",
            notice="Risponde l'operatore del centralino.",
            attributes=(Attribute("topic", "string", "Su che argomento?", order=1),
                        Attribute("answer", "text", "La risposta data al chiamante", order=2))),
)

DEFAULT_CATALOG = Catalog(DEFAULT_SERVICES)


def catalog_for(session: Session | None, municipality_id: int | None) -> Catalog:
    """The service list of a municipality (today: the default one for every town)."""
    return DEFAULT_CATALOG


def service_for(session: Session | None, municipality_id: int | None, code: str | None) -> Service:
    """The service ``code`` of a municipality; ``BadInput`` naming the known codes otherwise."""
    catalog = catalog_for(session, municipality_id)
    if not code:
        raise BadInput(f"service_code is required: one of {', '.join(catalog.codes)}",
                       details=[{"field": "service_code"}])
    service = catalog.get(code)
    if service is None:
        raise BadInput(f"service_code {code!r} is not offered here: one of {', '.join(catalog.codes)}",
                       details=[{"field": "service_code", "value": code, "expected": catalog.codes}])
    return service
