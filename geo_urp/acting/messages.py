"""The closing message (riscontro): what the caller reported, what was done, and thanks.

One text per channel — an e-mail, an SMS short enough for two segments, and a
call-back an operator reads out on the phone — in Italian, or in English when the
report asked for it (``reports.language``). What was reported is said in the
caller's words for the service (``REPORTED``); what was done is the crew's note.
Dates and times are the towns' local time (``settings.local_zone``). The texts
are plain text: nothing in them is markup, whatever a note holds.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from geo_urp import settings

# What the caller reported, by service, as a phrase that follows "you reported" / "ci ha segnalato".
REPORTED = {
    "it": {
        "streetlight_out": "un lampione spento", "no_water": "la mancanza d'acqua",
        "low_pressure": "l'acqua con poca pressione", "water_leak": "una perdita d'acqua in strada",
        "flooding": "un allagamento", "road_damage": "un danno alla strada",
        "noise": "un disturbo della quiete pubblica", "social_distress": "una persona in difficoltà",
        "info_request": "una richiesta di informazioni",
    },
    "en": {
        "streetlight_out": "a street light out", "no_water": "no water at the tap",
        "low_pressure": "low water pressure", "water_leak": "a water leak in the street",
        "flooding": "flooding", "road_damage": "damage to the road", "noise": "noise disturbing the peace",
        "social_distress": "a person in difficulty", "info_request": "a request for information",
    },
}
_SOMETHING = {"it": "un problema", "en": "a problem"}
_AT = {"it": "in {address}", "en": "at {address}"}

_TEXTS = {
    "it": {
        "subject": "Comune di {town}: la sua segnalazione n. {number} è stata risolta",
        "email": ("Gentile {name},\n\n"
                  "il {date} alle {time} ci ha segnalato {what}{where}.\n"
                  "Il lavoro è concluso: {note}\n\n"
                  "Grazie per la sua segnalazione: ci aiuta a prenderci cura di {town}.\n\n"
                  "Ufficio Relazioni con il Pubblico - Comune di {town}\n"
                  "Segnalazione n. {number}\n"),
        "sms": "Comune di {town}: la segnalazione n. {number} ({what}{where}) è risolta: {note} Grazie!",
        "phone": ("Buongiorno, la chiamo dal Comune di {town} per la segnalazione n. {number} del {date} "
                  "alle {time}: {what}{where}. Il lavoro è concluso: {note} Grazie per averci chiamato."),
        "citizen": "cittadina, cittadino",
    },
    "en": {
        "subject": "{town} council: your report no. {number} has been resolved",
        "email": ("Dear {name},\n\n"
                  "on {date} at {time} you reported {what}{where}.\n"
                  "The work is done: {note}\n\n"
                  "Thank you for your report: it helps us take care of {town}.\n\n"
                  "Citizens' Relations Office - Comune di {town}\n"
                  "Report no. {number}\n"),
        "sms": "{town} council: report no. {number} ({what}{where}) is resolved: {note} Thank you!",
        "phone": ("Hello, I am calling from the Comune di {town} about report no. {number} of {date} "
                  "at {time}: {what}{where}. The work is done: {note} Thank you for calling us."),
        "citizen": "resident",
    },
}
SMS_MAX = 306          # two concatenated segments of 153 characters
NOTE_IN_SMS = 120


@dataclass(frozen=True)
class Closing:
    """A closing message as queued: its subject (e-mail only) and text."""

    subject: str
    text: str


@dataclass(frozen=True)
class Reported:
    """What a closing message says of the report."""

    number: str               # the Open311 service_request_id
    service_code: str
    requested_at: datetime
    address: str | None
    first_name: str | None = None
    last_name: str | None = None


def closing_message(channel: str, language: str, town: str, report: Reported, note: str) -> Closing:
    """The closing message of ``report`` for ``channel`` (email, sms, phone) in ``language``."""
    lang = language if language in _TEXTS else "it"
    words = _TEXTS[lang]
    local = report.requested_at.astimezone(settings.local_zone())
    note = " ".join(note.split())
    if note and note[-1] not in ".!?":
        note += "."
    if channel == "sms" and len(note) > NOTE_IN_SMS:
        note = note[:NOTE_IN_SMS - 1].rstrip() + "…"
    name = " ".join(p for p in (report.first_name, report.last_name) if p) or words["citizen"]
    values = {"town": town, "number": report.number, "name": name, "note": note,
              "what": REPORTED[lang].get(report.service_code, _SOMETHING[lang]),
              "where": (" " + _AT[lang].format(address=report.address)) if report.address else "",
              "date": local.strftime("%d/%m/%Y"), "time": local.strftime("%H:%M")}
    text = words[channel].format(**values)
    if channel == "sms" and len(text) > SMS_MAX:  # a long address: keep the number, the note and the thanks
        text = words["sms"].format(**{**values, "where": ""})[:SMS_MAX]
    return Closing(words["subject"].format(**values) if channel == "email" else "", text)
