"""The service list (SPEC §3): what a caller can report, who handles it, what the crew needs.

Each ``Service`` is an Open311 service: a code, an Italian name, a group and
keywords for the operator's search, the network
its reports are snapped to, and the extra questions (Open311 attributes) whose
answers help the crew ("whole street or only this house?"). A service that is not
``public`` (social distress) is offered and taken as any other, but its reports are
left out of the public Open311 view, as FixMyStreet's non-public categories are; a
town may say otherwise for each service in ``municipalities.service_settings``
(``{"noise": {"public": false}}``, read by ``reading.privacy.is_public``).

Its words (names, descriptions, groups, questions and their choices, notices) are Italian,
marked for the catalog: ``as_open311`` and ``definition`` give them in a language
(``geo_urp.language``); codes and keys are the same in every language.

``catalog_for(session, municipality_id)`` is the one place that says which list
a municipality uses. Today every municipality gets ``DEFAULT_CATALOG``; a
per-municipality list stored in the database later replaces only that function.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from geo_urp.errors import BadInput, Word
from geo_urp.language import DEFAULT, N_, gettext_in

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
NETWORKS = ("lighting", "water", "streets")
MAX_ATTRIBUTE_LENGTH = 500


def _words_in(language: str):
    """A catalog word (or None) in ``language``."""
    return lambda text: gettext_in(language, text) if text else text


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

    def as_open311(self, language: str = DEFAULT) -> dict:
        """The attribute as the Open311 service definition lists it, its words in ``language``."""
        words = _words_in(language)
        out = {"variable": self.variable, "code": self.code, "datatype": self.datatype,
               "required": self.required, "datatype_description": words(self.datatype_description),
               "order": self.order, "description": words(self.description)}
        if self.values:
            out["values"] = [{"key": key, "name": words(name)} for key, name in self.values]
        return out

    def clean(self, raw: str | list[str]) -> str | list[str] | float:
        """The answer checked against the datatype; ``BadInput`` naming the attribute otherwise."""
        where = f"attribute[{self.code}]"
        keys = [key for key, _ in self.values]
        if self.datatype == "multivaluelist":
            chosen = raw if isinstance(raw, list) else [v for v in str(raw).split(",") if v]
            wrong = [v for v in chosen if v not in keys]
            if wrong:
                raise BadInput(N_("%(field)s: %(wrong)s non è tra %(keys)s"), field=where,
                               wrong=", ".join(map(repr, wrong)), keys=", ".join(keys),
                               details=[{"field": where, "value": wrong, "expected": keys}])
            return list(dict.fromkeys(chosen))
        if isinstance(raw, list):
            if len(raw) != 1:
                raise BadInput(N_("%(field)s vuole un solo valore, non %(count)s"), field=where, count=len(raw),
                               details=[{"field": where}])
            raw = raw[0]
        value = str(raw).strip()
        if len(value) > MAX_ATTRIBUTE_LENGTH:
            raise BadInput(N_("%(field)s è lungo %(length)s caratteri; al massimo %(limit)s"), field=where,
                           length=len(value), limit=MAX_ATTRIBUTE_LENGTH, details=[{"field": where}])
        if self.datatype == "singlevaluelist" and value not in keys:
            raise BadInput(N_("%(field)s: %(value)s non è uno tra %(keys)s"), field=where, value=repr(value),
                           keys=", ".join(keys), details=[{"field": where, "value": value, "expected": keys}])
        if self.datatype == "number":
            try:
                return float(value)
            except ValueError:
                raise BadInput(N_("%(field)s deve essere un numero, non %(value)s"), field=where,
                               value=repr(value), details=[{"field": where, "value": value}]) from None
        if self.datatype == "datetime":
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise BadInput(N_("%(field)s deve essere una data e ora ISO 8601, non %(value)s"), field=where,
                               value=repr(value), details=[{"field": where, "value": value}]) from None
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

    def as_open311(self, language: str = DEFAULT) -> dict:
        """The service as ``GET services`` lists it, its words in ``language`` (the keywords are
        the Italian words callers use, for the operator's search)."""
        words = _words_in(language)
        return {"service_code": self.code, "service_name": words(self.name),
                "description": words(self.description), "metadata": self.metadata, "type": self.type,
                "keywords": ", ".join(self.keywords), "group": words(self.group)}

    def definition(self, language: str = DEFAULT) -> dict:
        """The Open311 service definition: its attributes in order, their words in ``language``."""
        attrs = sorted(self.attributes, key=lambda a: a.order)
        return {"service_code": self.code, "attributes": [a.as_open311(language) for a in attrs]}

    def clean_attributes(self, raw: Mapping[str, str | list[str]]) -> dict:
        """The caller's answers, checked: unknown codes, missing required ones and bad values are ``BadInput``."""
        known = {a.code: a for a in self.attributes}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            if known:
                raise BadInput(N_("il servizio %(service)s non ha l'attributo %(unknown)s (ha: %(expected)s)"),
                               service=repr(self.code), unknown=", ".join(unknown), expected=", ".join(known),
                               details=[{"field": f"attribute[{code}]"} for code in unknown])
            raise BadInput(N_("il servizio %(service)s non ha l'attributo %(unknown)s (non ne ha nessuno)"),
                           service=repr(self.code), unknown=", ".join(unknown),
                           details=[{"field": f"attribute[{code}]"} for code in unknown])
        out: dict = {}
        for attr in self.attributes:
            value = raw.get(attr.code)
            if value in (None, "", []):
                if attr.required:
                    raise BadInput(N_("attribute[%(code)s] è obbligatorio per %(service)s: %(question)s"),
                                   code=attr.code, service=repr(self.code), question=Word(attr.description),
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
                     values=(("si", N_("Sì")), ("no", N_("No")), ("non_so", N_("Non so"))))


_SINCE = Attribute("since", "datetime", N_("Da quando? (data e ora, anche approssimative)"), order=3,
                   datatype_description=N_("ISO 8601, per esempio 2026-11-27T21:30:00+01:00"))
_WATER_EXTENT = Attribute(
    "extent", "singlevaluelist", N_("Riguarda tutta la via o solo questa casa?"), order=1,
    values=(("casa", N_("Solo questa casa o appartamento")), ("palazzo", N_("Tutto il palazzo")),
            ("via", N_("Tutta la via o il vicinato")), ("non_so", N_("Non so"))))

DEFAULT_SERVICES: tuple[Service, ...] = (
    Service("streetlight_out", N_("Lampione spento / via al buio"),
            N_("Uno o più lampioni spenti, intermittenti o accesi di giorno."), N_("Illuminazione pubblica"),
            ("lampione", "luce", "buio", "illuminazione", "palo"), "lighting",
            "Comune - Illuminazione pubblica",
            attributes=(
                Attribute("extent", "singlevaluelist", N_("Quanti lampioni sono spenti?"), order=1,
                          values=(("uno", N_("Un solo lampione")), ("alcuni", N_("Alcuni lampioni vicini")),
                                  ("via", N_("Tutta la via al buio")))),
                Attribute("state", "singlevaluelist", N_("Come si presenta?"), order=2,
                          values=(("spento", N_("Spento")), ("intermittente", N_("Si accende e si spegne")),
                                  ("acceso_di_giorno", N_("Acceso di giorno")))),
                Attribute("lamp_code", "string", N_("Numero o codice scritto sul palo, se visibile"), order=3),
            )),
    Service("no_water", N_("Mancanza d'acqua"), N_("Dal rubinetto non esce acqua."), N_("Acquedotto"),
            ("acqua", "rubinetto", "senz'acqua", "acquedotto"), "water", "Comune - Servizio idrico",
            attributes=(_WATER_EXTENT,
                        _yes_no("neighbours_asked", N_("I vicini hanno lo stesso problema?"), 2), _SINCE)),
    Service("low_pressure", N_("Acqua con poca pressione"), N_("L'acqua esce dal rubinetto con poca forza."),
            N_("Acquedotto"),
            ("pressione", "acqua", "rubinetto", "acquedotto"), "water", "Comune - Servizio idrico",
            attributes=(_WATER_EXTENT,
                        _yes_no("neighbours_asked", N_("I vicini hanno lo stesso problema?"), 2), _SINCE)),
    Service("water_leak", N_("Perdita d'acqua in strada"),
            N_("Acqua che esce dall'asfalto, da un tombino o da un muro."),
            N_("Acquedotto"), ("perdita", "tubo", "rotto", "acqua", "zampillo", "allagata"), "water",
            "Comune - Servizio idrico",
            attributes=(
                Attribute("size", "singlevaluelist", N_("Quanta acqua esce?"), order=1,
                          values=(("chiazza", N_("Una chiazza umida o poche gocce")),
                                  ("rivolo", N_("Un rivolo continuo")),
                                  ("zampillo", N_("Uno zampillo, esce con forza")))),
                Attribute("where", "singlevaluelist", N_("Dove esce?"), order=2,
                          values=(("strada", N_("Dalla strada")), ("marciapiede", N_("Dal marciapiede")),
                                  ("tombino", N_("Da un tombino o pozzetto")),
                                  ("privato", N_("Da una proprietà privata")))),
                _yes_no("traffic_danger", N_("È un pericolo per il traffico o i pedoni?"), 3),
            )),
    Service("flooding", N_("Allagamento"), N_("Strada, sottopasso o cantina pubblica allagati."),
            N_("Strade e fognature"),
            ("allagamento", "acqua alta", "tombino", "pioggia", "sottopasso"), "streets",
            "Comune - Fognature e acque meteoriche",
            attributes=(
                Attribute("depth", "singlevaluelist", N_("Quanto è alta l'acqua?"), order=1,
                          values=(("pozzanghera", N_("Pozzanghera")), ("caviglia", N_("Fino alla caviglia")),
                                  ("ginocchio", N_("Fino al ginocchio o più")))),
                _yes_no("drain_blocked", N_("Il tombino o la caditoia sembra ostruito?"), 2),
                _yes_no("people_at_risk", N_("Ci sono persone o veicoli in pericolo?"), 3),
            )),
    Service("road_damage", N_("Buca o danno stradale"),
            N_("Buca, avvallamento, tombino rotto o segnaletica danneggiata."),
            N_("Strade e fognature"), ("buca", "asfalto", "strada", "marciapiede", "tombino", "cartello"),
            "streets", "Comune - Manutenzione strade",
            attributes=(
                Attribute("kind", "singlevaluelist", N_("Che tipo di danno?"), order=1,
                          values=(("buca", N_("Buca")), ("avvallamento", N_("Avvallamento o cedimento")),
                                  ("tombino", N_("Tombino rotto o sollevato")),
                                  ("segnaletica", N_("Segnaletica danneggiata")), ("altro", N_("Altro")))),
                _yes_no("traffic_danger", N_("È un pericolo per il traffico o i pedoni?"), 2),
            )),
    Service("noise", N_("Disturbo della quiete pubblica"), N_("Rumore molesto, soprattutto di notte."),
            N_("Sicurezza e quiete"),
            ("rumore", "musica", "schiamazzi", "quiete", "notte"), None, "Polizia locale",
            notice=N_("La segnalazione è inoltrata alla Polizia locale."),
            attributes=(
                Attribute("source", "singlevaluelist", N_("Da dove viene il rumore?"), order=1,
                          values=(("musica", N_("Musica")), ("festa", N_("Festa o schiamazzi")),
                                  ("lavori", N_("Lavori o cantiere")), ("veicoli", N_("Veicoli")),
                                  ("animali", N_("Animali")), ("altro", N_("Altro")))),
                _yes_no("ongoing", N_("Il rumore è ancora in corso?"), 2),
            )),
    Service("social_distress", N_("Situazione di disagio"), N_("Una persona in difficoltà che ha bisogno di aiuto."),
            N_("Servizi sociali"), ("disagio", "anziano", "solo", "senza dimora", "aiuto"), None,
            "Comune - Servizi sociali",
            notice=N_("In caso di pericolo immediato per la vita chiamare il 112."), public=False,
            attributes=(
                _yes_no("immediate_danger", N_("La persona è in pericolo immediato?"), 1),
                Attribute("situation", "singlevaluelist", N_("Che situazione?"), order=2,
                          values=(("anziano_solo", N_("Anziano solo")), ("senza_dimora", N_("Persona senza dimora")),
                                  ("minore", N_("Minore")), ("altro", N_("Altro")))),
            )),
    Service("info_request", N_("Richiesta di informazioni"), N_("Una domanda sui servizi del Comune."),
            N_("Informazioni"),
            ("informazioni", "orari", "uffici", "domanda"), None, "Comune - URP",
            notice=N_("Risponde l'operatore del centralino."),
            attributes=(Attribute("topic", "string", N_("Su che argomento?"), order=1),
                        Attribute("answer", "text", N_("La risposta data al chiamante"), order=2))),
)

DEFAULT_CATALOG = Catalog(DEFAULT_SERVICES)


def catalog_for(session: Session | None, municipality_id: int | None) -> Catalog:
    """The service list of a municipality (today: the default one for every town)."""
    return DEFAULT_CATALOG


def service_for(session: Session | None, municipality_id: int | None, code: str | None) -> Service:
    """The service ``code`` of a municipality; ``BadInput`` naming the known codes otherwise."""
    catalog = catalog_for(session, municipality_id)
    if not code:
        raise BadInput(N_("service_code è obbligatorio: uno tra %(codes)s"), codes=", ".join(catalog.codes),
                       details=[{"field": "service_code"}])
    service = catalog.get(code)
    if service is None:
        raise BadInput(N_("service_code %(code)s non è offerto qui: uno tra %(codes)s"), code=repr(code),
                       codes=", ".join(catalog.codes),
                       details=[{"field": "service_code", "value": code, "expected": catalog.codes}])
    return service
