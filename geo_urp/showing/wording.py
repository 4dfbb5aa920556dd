"""The pages' words in the reader's language (``auth.reader_language``, through Flask-Babel).

Templates write their text in Italian inside ``_()``; the names of kinds, statuses, steps and
roles, the incidents' explanations and the dates are given to every template by
``_words`` below, and the scripts' words (``static/words.js``) by ``page_words``: one
dictionary the page writes into ``script#page-words``, so that no script holds a word of
its own. Each Italian text is marked here with ``N_`` / ``Np_`` and found in the catalog when
the page is read.
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint
from flask_babel import get_locale, get_translations, gettext

from geo_urp import language, settings
from geo_urp.language import N_, Np_
from geo_urp.models import Incident
from geo_urp.reasoning import words

bp = Blueprint("wording", __name__)

KIND = {
    "lamp": N_("Lampione spento"), "lighting_circuit": N_("Circuito di illuminazione spento"),
    "lighting_cabinet": N_("Quadro dell'illuminazione guasto"), "water_main_burst": N_("Rottura di una condotta"),
    "water_outage": N_("Mancanza d'acqua"), "flooding": N_("Allagamento"), "road_damage": N_("Buca o danno stradale"),
    "noise": N_("Disturbo della quiete pubblica"), "social_distress": N_("Situazione di disagio"),
    "other": N_("Altro"),
}
# An incident's status as the operators and the council read it, and as a crew does.
STATUS = {"open": N_("Da assegnare"), "assigned": N_("Assegnato"), "in_progress": N_("In lavorazione"),
          "resolved": N_("Risolto"), "closed": N_("Chiuso")}
CREW_STATUS = {"open": N_("In attesa di invio dalla centrale"), "assigned": N_("Assegnato alla squadra"),
               "in_progress": N_("Lavoro in corso"), "resolved": N_("Risolto"), "closed": N_("Chiuso")}
STEP = {"assigned": N_("Assegna alla squadra"), "in_progress": N_("Inizia il lavoro"), "resolved": N_("Risolto"),
        "closed": N_("Archivia")}
ROLE = {"operator": N_("operatore"), "crew": N_("squadra"), "council": N_("consiglio comunale"),
        "admin": N_("amministratore"), "public": N_("pubblico")}


def reader() -> str:
    """The language of this request's reader."""
    return language.language_of(str(get_locale()))


def named(names: dict[str, str], key: str) -> str:
    """``key``'s name from one of the tables above, in the reader's language (the key itself when unnamed)."""
    return gettext(names[key]) if key in names else key


def names(table: dict[str, str]) -> dict[str, str]:
    """A whole table in the reader's language, for a script."""
    return {key: gettext(text) for key, text in table.items()}


def local_time(at: datetime | None) -> str:
    """``at`` on the towns' clock, as the reader writes dates (``language.local_datetime``); "" for None."""
    return language.local_datetime(at, reader())


def explained(inc: Incident) -> dict:
    """The incident's ``explanation``, ``dispatch_note`` and ``priority_reasons`` in the reader's
    language (its stored Italian texts when it has no message parts)."""
    stored = {"explanation": inc.explanation, "dispatch_note": inc.dispatch_note,
              "priority_reasons": list(inc.priority_reasons)}
    return {**stored, **words.worded(inc.explanation_parts or {}, reader())}


@bp.app_context_processor
def _words() -> dict:
    return {"kind_name": lambda kind: named(KIND, kind), "status_name": lambda s: named(STATUS, s),
            "crew_status": lambda s: named(CREW_STATUS, s), "step_name": lambda s: named(STEP, s),
            "role_name": lambda r: named(ROLE, r), "local_time": local_time, "explained": explained,
            "reader_language": reader, "language_names": language.NAMES, "page_words": page_words}


# The scripts' words (``static/words.js``: ``t(key, args)``, ``n(key, count, args)``); ``%(name)s``
# is filled in by the script.
SCRIPT_WORDS: dict[str, str | tuple[str, str]] = {
    # console_post.js
    "session_expired": N_("sessione scaduta: ricarica la pagina e accedi di nuovo"),
    "page_expired": N_("la pagina è scaduta: ricaricala e riprova"),
    "error_status": N_("errore %(status)s"),
    # operator.js
    "open_count": Np_("%(n)s incidente aperto", "%(n)s incidenti aperti"),
    "poll_error": N_("Errore %(status)s: %(n)s incidenti aperti all'ultimo aggiornamento"),
    "poll_unreachable": N_("Servizio non raggiungibile: %(n)s incidenti aperti all'ultimo aggiornamento"),
    # live_map.js
    "overlay_lighting": N_("Incidenti: illuminazione (lampioni spenti, quadri)"),
    "overlay_water": N_("Incidenti: acqua (condotte, valvole da chiudere)"),
    "overlay_flooding": N_("Incidenti: allagamenti"),
    "overlay_other": N_("Incidenti: altri"),
    "popup_priority": N_("Priorità %(priority)s · %(calls)s"),
    "popup_valves": N_("Chiudere, in ordine: %(valves)s"),
    "valve_tip": N_("%(n)sª valvola da chiudere: %(valve)s"),
    "cabinet_tip": N_("Quadro %(cabinet)s: alimenta i lampioni spenti"),
    # incident_panel.js
    "calls": Np_("%(n)s chiamata", "%(n)s chiamate"),
    "age_minutes": N_("da %(n)s min"),
    "age_hours": N_("da %(h)s h %(m)s min"),
    "age_days": N_("da %(n)s giorni"),
    "crew_at_work": N_("Squadra già al lavoro: si riassegna solo prima che inizi."),
    "no_skilled_crew": N_("Nessuna squadra del comune ha la competenza: va inviata a mano."),
    "police": N_("Nessuna squadra comunale: va passato alla polizia locale."),
    "crew_for": N_("Squadra per l'incidente #%(id)s"),
    "out_of_area": N_(" (fuori zona)"),
    "reassign": N_("Riassegna"),
    "assign": N_("Assegna"),
    "which_incident": N_("— in quale incidente —"),
    "call_to_move": N_("Chiamata dell'incidente #%(id)s da spostare"),
    "call_n": N_("chiamata %(id)s"),
    "move_into": N_("Incidente in cui spostarla"),
    "move": N_("Sposta"),
    "move_the": N_("Sposta la "),
    "into_incident": N_(" nell'incidente "),
    "tick_to_merge": N_("Seleziona l'incidente #%(id)s per unirlo ad altri"),
    "show_on_map": N_("Mostra sulla mappa"),
    "opened_at": N_("aperto il %(when)s"),
    "crew_n": N_("squadra %(crew)s"),
    "no_crew": N_("nessuna squadra"),
    "valves_in_order": N_("Valvole: chiudere %(valves)s (in quest'ordine)"),
    "actions": N_("Assegna, sposta una chiamata"),
    "merge_n": N_("Unisci i selezionati (%(n)s)"),
    "merge": N_("Unisci i selezionati"),
    "unreachable_retry": N_("servizio non raggiungibile, riprova."),
    "assigned_to": N_("Incidente #%(id)s assegnato alla squadra %(crew)s."),
    "not_assigned": N_("Incidente #%(id)s non assegnato"),
    "merged_into": N_("Incidenti %(ids)s uniti nell'incidente #%(id)s."),
    "not_merged": N_("Incidenti non uniti"),
    "choose_call_and_incident": N_("Scegli la chiamata e l'incidente in cui spostarla."),
    "moved_into": N_("Chiamata %(report)s spostata nell'incidente #%(id)s."),
    "not_moved": N_("Chiamata %(report)s non spostata"),
    # callbacks.js
    "waited_minutes": N_("%(n)s min"),
    "waited_hours": N_("%(h)s h %(m)s min"),
    "callback_call": N_(" · chiamata %(report)s"),
    "callback_incident": N_(" · incidente #%(id)s"),
    "callback_waiting": N_(" · in attesa da %(since)s"),
    "callback_note": N_("nota (facoltativa): chi ha risposto, esito"),
    "callback_note_label": N_("Nota sul riscontro %(id)s"),
    "done": N_("Fatto"),
    "read_to_caller": N_("Da leggere al chiamante:"),
    "callbacks_count": N_("%(n)s da fare"),
    "callbacks_none": N_("nessuno da fare"),
    "not_recorded": N_("Non registrato: %(why)s"),
    "not_recorded_unreachable": N_("Non registrato: servizio non raggiungibile, riprova."),
    "list_error": N_("errore %(status)s: elenco non aggiornato"),
    "list_unreachable": N_("servizio non raggiungibile: elenco non aggiornato"),
    # crew.js
    "refused_400": N_("Richiesta non valida"),
    "refused_401": N_("Sessione scaduta: accedi di nuovo"),
    "refused_403": N_("Questo lavoro non è della tua squadra, o il passo spetta alla centrale"),
    "refused_404": N_("Lavoro non trovato"),
    "refused_409": N_("Lo stato del lavoro è cambiato nel frattempo: ricarica la pagina"),
    "service_error": N_("Errore del servizio"),
    "no_step_now": N_("Nessuna azione possibile ora."),
    "write_the_note": N_("Scrivi nella nota per i cittadini che cosa è stato fatto, poi premi di nuovo."),
    "sending": N_("Invio in corso…"),
    "resolved_told": N_("Lavoro risolto: chi ha chiamato riceverà la nota."),
    "status_now": N_("Stato aggiornato: %(status)s."),
    "no_answer": N_("Nessuna risposta dal servizio: controlla la connessione e riprova."),
    "job_gone": N_("Questo lavoro non è più nella lista della squadra: la nota non è stata inviata."),
    # intake.js
    "field_service_code": N_("Servizio"), "field_jurisdiction_id": N_("Comune"),
    "field_address_string": N_("Indirizzo"), "field_lat": N_("Latitudine"), "field_long": N_("Longitudine"),
    "field_description": N_("Descrizione"), "field_first_name": N_("Nome"), "field_last_name": N_("Cognome"),
    "field_phone": N_("Telefono"), "field_email": N_("E-mail"), "field_language": N_("Lingua"),
    "field_requested_datetime": N_("Ora della chiamata"),
    "info_request_hint": N_("Richiesta di informazioni: il luogo non serve (senza indirizzo è registrata senza "
                            "luogo) ed è chiusa subito con la risposta data."),
    "near_lamp": N_("il lampione %(asset)s spento"), "near_lighting_circuit": N_("il circuito %(asset)s spento"),
    "near_lighting_cabinet": N_("il quadro elettrico %(asset)s spento"),
    "near_water_main_burst": N_("la rottura della condotta %(asset)s"),
    "near_water_outage": N_("la mancanza d'acqua"), "near_flooding": N_("l'allagamento"),
    "near_road_damage": N_("il danno stradale"), "near_noise": N_("il disturbo della quiete"),
    "near_social_distress": N_("la situazione di disagio"), "near_other": N_("lo stesso problema"),
    "near_in_street": N_(" in %(street)s"),
    "near_sentence": N_("Probabilmente %(what)s%(where)s, %(calls)s (incidente #%(id)s, a %(m)s m): "
                        "aggiungere questa?"),
    "near_warning": N_("Attenzione: incidenti aperti dello stesso tipo qui vicino."),
    "near_no": N_("No, è un'altra cosa (la raggruppa il sistema)"),
    "intake_session_expired": N_("Sessione scaduta: ricarica la pagina e accedi di nuovo."),
    "intake_page_expired": N_("La pagina è scaduta: ricaricala e registra di nuovo la chiamata."),
    "intake_refused": N_("Chiamata non registrata%(field)s: %(why)s"),
    "intake_joined": N_(" · aggiunta all'incidente #%(id)s"),
    "intake_not_joined": N_(" · non aggiunta all'incidente #%(id)s: %(why)s"),
    "intake_saved": N_("Chiamata registrata: numero "),
    "choose_service": N_("Scegli il servizio."),
    "choose_town": N_("Scegli il comune: l'indirizzo da solo non dice quale."),
    "say_where": N_("Indica dove: scrivi l'indirizzo o fai clic sulla mappa."),
    "intake_unreachable": N_("Servizio non raggiungibile: la chiamata non è registrata. Riprova."),
    # intake_place.js
    "match_address": N_("civico"), "match_interpolated": N_("civico stimato (interpolato)"),
    "match_intersection": N_("incrocio"), "match_landmark": N_("luogo noto"), "match_street": N_("via, senza civico"),
    "point_chosen": N_("Punto scelto"),
    "did_you_mean": N_("forse intendevi…"),
    "search_again": N_("cerca di nuovo"),
    "picked": N_("✓ %(kind)s: %(place)s"),
    "searching": N_("Cerco…"),
    "in_several_towns": N_("«%(query)s» c'è in più comuni (%(towns)s): quale? Scegli con ↑↓ e Invio, o nel campo "
                           "Comune."),
    "which_town": N_("In quale comune?"),
    "town_of_match": N_(" (comune: %(town)s)"),
    "town_of_match_from_words": N_(" (comune: %(town)s, dall'indirizzo)"),
    "found": N_("%(kind)s: %(label)s%(where)s — Invio per confermare"),
    "nothing_found_near": N_("Nessun luogo trovato per «%(query)s»: forse intendevi…"),
    "nothing_found": N_("Nessun luogo trovato per «%(query)s». Prova con un'altra via, un incrocio o un luogo noto, "
                        "oppure fai clic sulla mappa."),
    "choose_town_first": N_("Scegli prima il comune: ↑↓ nell'elenco, poi Invio."),
    "map_point": N_("✓ Punto scelto sulla mappa: %(lat)s, %(lon)s"),
    "map_point_town": N_(" — scegli il comune"),
}


def page_words() -> dict:
    """``SCRIPT_WORDS`` in the reader's language (a pair as ``{"one", "other"}``), with the
    reader's locale and the towns' zone for the scripts' clocks (``_locale``, ``_zone``)."""
    catalog = get_translations()
    out: dict = {"_locale": language.FORMATS[reader()].replace("_", "-"), "_zone": settings.local_zone().key}
    for key, text in SCRIPT_WORDS.items():
        if isinstance(text, tuple):
            out[key] = {"one": catalog.ngettext(*text, 1), "other": catalog.ngettext(*text, 2)}
        else:
            out[key] = catalog.gettext(text)
    return out
