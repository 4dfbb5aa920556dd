"""The sentences an operator reads aloud, kept as message parts and worded in the reader's language.

An incident's explanation, its dispatch note and its priority reasons are built by the
reasoning as *parts*: ``{"msg": key, "args": {...}}``, a key of ``MESSAGES`` with what fills
it in. An argument is a number or a text (an id, a street's name), another part (a phrase
inside the sentence), ``{"places": [...]}`` (street names, "Via Roma, Via Trento e Via
Po"), ``{"ids": [...]}`` (asset ids) or ``{"clock": ISO 8601}`` (a time of day, said in the
towns' zone). A message is one Italian text, or a singular and plural pair chosen by the
part's ``n``; ``render`` words a part in a language through the catalogs (``geo_urp.language``).

Parts are stored with the incident (``incidents.explanation_parts``) and worded when read,
so an English reader reads the same reasoning in English. Keys stay stable: a part stored
long ago still finds its message. The texts themselves may be reworded freely.
"""
from __future__ import annotations

from datetime import datetime

from geo_urp.language import N_, Np_, gettext_in, local_clock, ngettext_in

Part = dict

MESSAGES: dict[str, str | tuple[str, str]] = {
    # pieces
    "calls": Np_("%(n)s chiamata", "%(n)s chiamate"),
    "at_clock": N_("alle %(time)s"),
    "in_minutes": Np_("in %(n)s minuto", "in %(n)s minuti"),
    "in_hours": Np_("in %(n)s ora", "in %(n)s ore"),
    "over_days": Np_("nell'arco di %(n)s giorno", "nell'arco di %(n)s giorni"),
    "and": N_("%(first)s e %(last)s"),
    "more_streets": Np_("%(shown)s e %(n)s altra via", "%(shown)s e altre %(n)s vie"),
    "more_ids": Np_("%(shown)s e %(n)s altro", "%(shown)s e altri %(n)s"),
    "head": N_("%(calls)s %(span)s"),
    "along": N_(" lungo %(streets)s"),
    "from": N_(" da %(streets)s"),
    "in": N_(" in %(streets)s"),
    # lighting
    "lamp": N_("%(head)s%(where)s per il lampione %(lamp)s; %(neighbours)s: probabile guasto del solo lampione."),
    "circuit_unknown": N_("il suo circuito non è noto"),
    "no_other_lamp": N_("nessun altro lampione del circuito %(circuit)s segnalato entro %(hours)s h"),
    "other_lamps": Np_(
        "%(n)s altro lampione del circuito %(circuit)s segnalato entro %(hours)s h, "
        "non abbastanza per un guasto del circuito",
        "%(n)s altri lampioni del circuito %(circuit)s segnalati entro %(hours)s h, "
        "non abbastanza per un guasto del circuito"),
    "circuit": N_("%(head)s%(where)s; tutti i lampioni coinvolti (%(lamps)s) sono sul circuito %(circuit)s del "
                  "quadro %(cabinet)s: probabile guasto del circuito."),
    "cabinet": Np_("%(head)s%(where)s; %(n)s circuito (%(circuits)s) del quadro %(cabinet)s si è spento: "
                   "probabile guasto del quadro.",
                   "%(head)s%(where)s; %(n)s circuiti (%(circuits)s) del quadro %(cabinet)s si sono spenti "
                   "insieme: probabile guasto del quadro."),
    # water
    "leak_calls": N_("%(n)s per acqua in strada"),
    "leak_and_dry_calls": N_("%(n)s per acqua in strada e %(dry)s per mancanza d'acqua o poca pressione"),
    "close_valves": Np_("chiudere la valvola %(valves)s", "chiudere le valvole %(valves)s"),
    "no_operable_valve": N_("nessuna valvola manovrabile la isola"),
    "burst": N_("%(head)s%(where)s: %(what)s; le chiamate per la perdita sono sulla condotta %(main)s, "
                "probabile rottura. Per isolarla %(valves)s; circa %(addresses)s civici resteranno senz'acqua."),
    "outage": Np_("%(head)s%(where)s per mancanza d'acqua o poca pressione in %(n)s tratto tra valvole (circa "
                  "%(addresses)s civici); nessuna perdita segnalata finora: la causa è a monte di questo tratto.",
                  "%(head)s%(where)s per mancanza d'acqua o poca pressione in %(n)s tratti tra valvole (circa "
                  "%(addresses)s civici); nessuna perdita segnalata finora: la causa è a monte di questi tratti."),
    # clusters of calls by place and time
    "cluster_one": N_("%(head)s%(where)s per %(noun)s; ancora nessun'altra chiamata vicina%(caveat)s."),
    "cluster": N_("%(head)s%(where)s per %(noun)s, vicine nello spazio e nel tempo: un'unica zona "
                  "colpita%(caveat)s."),
    "noun_flooding": N_("allagamento"),
    "noun_road_damage": N_("danno stradale"),
    "noun_noise": N_("disturbo della quiete"),
    "noun_social_distress": N_("una persona in difficoltà"),
    "noun_water_outage": N_("problemi d'acqua"),
    "noun_other": N_("lo stesso problema"),
    "caveat_flooding": N_(" (nessun indizio dalla rete idrica: non è una condotta rotta)"),
    "caveat_water_outage": N_(" (nessuna condotta è abbastanza vicina a queste chiamate: la causa non è ancora "
                              "localizzata)"),
    # dispatch notes
    "police": N_("Nessuna squadra comunale se ne occupa: passarlo alla polizia locale."),
    "no_area": N_("Non è in nessuna zona delle squadre, quindi nessuna squadra è assegnata: inviarla a mano."),
    "no_crew": N_("Nessuna squadra %(skill)s copre la zona %(area)s: inviarla a mano."),
    "skill_lighting": N_("dell'illuminazione"),
    "skill_water": N_("dell'acqua"),
    "skill_roads": N_("delle strade"),
    "skill_drains": N_("delle fognature"),
    "skill_green": N_("del verde"),
    "skill_social": N_("dei servizi sociali"),
    "skill_general": N_("per lavori generici"),
    # priority reasons
    "dark_at_night": N_("al buio di notte"),
    "near": N_("vicino a %(place)s"),
    "many_calls": N_("%(n)s chiamate"),
    "many_households": N_("%(n)s civici senz'acqua"),
}


def part(msg: str, **args) -> Part:
    """A message part: ``msg``, a key of ``MESSAGES``, filled in with ``args`` (``n`` picks a plural)."""
    if msg not in MESSAGES:
        raise KeyError(f"no message {msg!r}")
    return {"msg": msg, "args": args} if args else {"msg": msg}


def clock(at: datetime) -> dict:
    """A time of day as an argument: said in the towns' zone, in the reader's way."""
    return {"clock": at.isoformat()}


def calls(n: int) -> Part:
    return part("calls", n=n)


def span(times: list[datetime]) -> Part | str:
    """'alle 23:10' (the towns' local time), 'in 40 minuti', 'in 2 ore', "nell'arco di 3 giorni"."""
    return between(min(times), max(times)) if times else ""


def between(first: datetime, last: datetime) -> Part:
    """``span`` of calls from ``first`` to ``last``."""
    minutes = (last - first).total_seconds() / 60
    if minutes < 1:
        return part("at_clock", time=clock(first))
    if minutes < 90:
        return part("in_minutes", n=round(minutes))
    if minutes < 48 * 60:
        return part("in_hours", n=round(minutes / 60))
    return part("over_days", n=round(minutes / 1440))


def places(names: list[str]) -> dict:
    """Street names as an argument (each once): 'Via Roma e Via Trento', 'Via Roma, Via Trento e altre 2 vie'."""
    return {"places": list(dict.fromkeys(n for n in names if n))}


def ids(values: list[str]) -> dict:
    """Asset ids as an argument: 'C1, C2', past six 'C1, ..., C6 e altri 2'."""
    return {"ids": list(values)}


def render(p: Part | str | None, language: str) -> str:
    """A part worded in ``language`` ("" for None; a plain text stays as it is)."""
    if p is None:
        return ""
    if isinstance(p, str):
        return p
    args = p.get("args", {})
    message = MESSAGES.get(p["msg"])
    if message is None:  # a part stored by a version that had this message: nothing better to say
        return p["msg"]
    values = {name: _argument(value, language) for name, value in args.items()}
    if isinstance(message, tuple):
        text = ngettext_in(language, message[0], message[1], int(args.get("n", 0)))
    else:
        text = gettext_in(language, message)
    return text % values if values else text


def _argument(value, language: str) -> str:
    if isinstance(value, dict):
        if "msg" in value:
            return render(value, language)
        if "places" in value:
            return _listing(value["places"], 3, "more_streets", language, joined=True)
        if "ids" in value:
            return _listing(value["ids"], 6, "more_ids", language, joined=False)
        if "clock" in value:
            return local_clock(datetime.fromisoformat(value["clock"]), language)
    return str(value)


def _listing(values: list[str], limit: int, more: str, language: str, joined: bool) -> str:
    """Names said as a list: 'A', 'A e B', 'A, B e C', past ``limit`` 'A, B e altre 2 vie' (``joined``),
    or ids: 'C1, C2', past ``limit`` 'C1, ..., C6 e altri 2'."""
    if not values:
        return ""
    if len(values) > limit:
        keep = limit - 1 if joined else limit
        return render(part(more, shown=", ".join(values[:keep]), n=len(values) - keep), language)
    if not joined or len(values) == 1:
        return ", ".join(values)
    return render(part("and", first=", ".join(values[:-1]), last=values[-1]), language)


def worded(parts: dict, language: str) -> dict:
    """What ``incidents.explanation_parts`` (``{"description", "dispatch_note", "priority_reasons"}``)
    says in ``language``: ``explanation`` (the description, then the dispatch note), ``dispatch_note``
    (None without one) and ``priority_reasons``. Empty for an incident never described with parts."""
    if not parts:
        return {}
    note = render(parts.get("dispatch_note"), language) or None
    description = render(parts.get("description"), language)
    return {"explanation": " ".join(t for t in (description, note) if t), "dispatch_note": note,
            "priority_reasons": [render(r, language) for r in parts.get("priority_reasons", [])]}
