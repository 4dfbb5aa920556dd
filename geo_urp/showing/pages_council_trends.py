"""The council's trend page (SPEC §6): ``/council/trends``, how problems grow and how fast they are fixed.

One town at a time (the first the login may see, or ``?jurisdiction_id=``), a service or all
the council may see, whole months (``reading.trends``: the question, the answer, the privacy
rule). The page draws each table as an inline SVG chart (``charts``, no script) with the table
under it: reports per service per week and per month, and per month, crew area and district
the median and 90th percentile of hours to resolve and the SLA share. A group under
``COUNCIL_MIN_REPORTS`` shows "< k", a figure from too few closed reports "—", never a number.
``/council/trends.csv?table=…`` gives any of the tables, suppressed the same way.
"""
from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, g, render_template, request
from flask_babel import format_decimal, format_percent, gettext

from geo_urp.errors import BadInput, NotFound
from geo_urp.reading import trends
from geo_urp.reading.privacy import COUNCIL_MIN_REPORTS
from geo_urp.showing import charts, csv_cells
from geo_urp.showing.auth import require
from geo_urp.showing.database import get_session
from geo_urp.showing.pages_council import council_service_names, town_asked

bp = Blueprint("council_trends", __name__)

# The tables of an answer and their CSV columns, in the answer's own names.
TABLES = {
    "weekly": ("week", "service_code", "count"),
    "monthly": ("month", "service_code", *trends.FIGURES),
    "months": ("month", *trends.FIGURES),
    "areas": ("jurisdiction_id", "area_id", "name", *trends.FIGURES),
    "districts": ("jurisdiction_id", "district_id", "name", *trends.FIGURES),
}


def hidden_count() -> str:
    """What stands for a count under k, on the page and in the CSV."""
    return f"< {COUNCIL_MIN_REPORTS}"


def _answer(session) -> tuple:
    """The town, every town, the question of the request and its answer."""
    town, towns = town_asked(session)
    question = trends.ask(session, {**request.args.to_dict(), "jurisdiction_id": town.slug},
                          g.principal.municipality_id)
    answer = trends.trends(session, question)
    session.commit()  # the trend counts brought up to date, for the next reader
    return town, towns, question, answer


def count_text(value: int | None) -> str:
    """A count as the page writes it: "< k" when hidden."""
    return hidden_count() if value is None else format_decimal(value)


def hours_text(value: float | None) -> str:
    """Hours to resolve as the page writes them: "—" when there are too few closed reports."""
    return "—" if value is None else gettext("%(h)s h", h=format_decimal(value, format="#,##0.#"))


def share_text(value: float | None) -> str:
    """The SLA share as the page writes it: "—" when too few reports had a due time."""
    return "—" if value is None else format_percent(value, format="#,##0%")


def _points(rows: list[dict], label: str, figure: str, text) -> list[charts.Point]:
    return [charts.Point(str(r[label]), r[figure], text(r[figure])) for r in rows]


def _counts_chart(rows, label, chart_id, caption, x_label) -> str:
    return charts.bar_chart(_points(rows, label, "count", count_text), chart_id=chart_id, caption=caption,
                            x_label=x_label, y_label=gettext("Segnalazioni"), tick=lambda v: format_decimal(v))


def _hours_chart(rows, label, chart_id, caption, x_label) -> str:
    series = [charts.Series(gettext("mediana"), _points(rows, label, "median_hours", hours_text)),
              charts.Series(gettext("90° percentile"), _points(rows, label, "p90_hours", hours_text))]
    return charts.line_chart(series, chart_id=chart_id, caption=caption, x_label=x_label,
                             y_label=gettext("Ore per la risoluzione"), tick=lambda v: format_decimal(v))


def _sla_chart(rows, label, chart_id, caption, x_label) -> str:
    return charts.bar_chart(_points(rows, label, "sla_share", share_text), chart_id=chart_id, caption=caption,
                            x_label=x_label, y_label=gettext("Entro i tempi"),
                            tick=lambda v: format_percent(v, format="#,##0%"))


def _place_label(row: dict, id_name: str) -> str:
    return row["name"] or row[id_name] or gettext("fuori da ogni zona")


def _places(rows: list[dict], id_name: str, prefix: str, kind: str) -> dict:
    """The charts of the per-area (or per-district) table."""
    named = [{**r, "label": _place_label(r, id_name)} for r in rows]
    return {"rows": named,
            "counts": _counts_chart(named, "label", f"{prefix}-counts",
                                    gettext("Segnalazioni per %(kind)s", kind=kind), kind),
            "hours": _hours_chart(named, "label", f"{prefix}-hours",
                                  gettext("Ore per la risoluzione per %(kind)s", kind=kind), kind),
            "sla": _sla_chart(named, "label", f"{prefix}-sla",
                              gettext("Quota risolta entro i tempi per %(kind)s", kind=kind), kind)}


def _by_service(answer: dict, names: dict[str, str]) -> list[dict]:
    """Per service with any group shown: its weekly and monthly rows and their charts."""
    blocks = []
    for code in answer["services"]:
        weekly = [r for r in answer["weekly"] if r["service_code"] == code]
        monthly = [r for r in answer["monthly"] if r["service_code"] == code]
        if all(r["suppressed"] for r in weekly + monthly):
            continue
        name = names.get(code, code)
        blocks.append({
            "code": code, "name": name, "weekly": weekly, "monthly": monthly,
            "weekly_chart": _counts_chart(weekly, "week", f"weekly-{code}",
                                          gettext("%(service)s: segnalazioni per settimana", service=name),
                                          gettext("Settimana")),
            "monthly_chart": _counts_chart(monthly, "month", f"monthly-{code}",
                                           gettext("%(service)s: segnalazioni per mese", service=name),
                                           gettext("Mese"))})
    return blocks


@bp.get("/council/trends")
@require("council")
def trends_page():
    """Reports per week and month, hours to resolve and SLA share, per service, crew area and district."""
    session = get_session()
    town, towns, question, answer = _answer(session)
    names = council_service_names(session, town)
    month = gettext("Mese")
    blocks = _by_service(answer, names)
    return render_template(
        "council_trends.html", principal=g.principal, municipality=town, towns=towns if len(towns) > 1 else [],
        question=question, answer=answer, services=names, blocks=blocks,
        quiet=[names.get(c, c) for c in answer["services"] if c not in {b["code"] for b in blocks}],
        months_counts=_counts_chart(answer["months"], "month", "months-counts",
                                    gettext("Segnalazioni per mese"), month),
        months_hours=_hours_chart(answer["months"], "month", "months-hours",
                                  gettext("Ore per la risoluzione per mese"), month),
        months_sla=_sla_chart(answer["months"], "month", "months-sla",
                              gettext("Quota risolta entro i tempi per mese"), month),
        areas=_places(answer["areas"], "area_id", "areas", gettext("zona della squadra")),
        districts=(_places(answer["districts"], "district_id", "districts", gettext("quartiere"))
                   if answer["districts"] is not None else None),
        args=_question_args(question), hidden=hidden_count(),
        count_text=count_text, hours_text=hours_text, share_text=share_text)


def _question_args(question: trends.Question) -> dict[str, str]:
    """The question as query arguments, for the links to the CSV tables."""
    return {"jurisdiction_id": question.towns[0].slug, "service_code": question.service_code or "",
            "from": f"{question.first:%Y-%m}", "to": f"{question.last:%Y-%m}"}


def _cell(row: dict, column: str):
    """A CSV cell as the page shows it: the count and closed count of a hidden group as "< k",
    a missing figure empty (``csv_cells.cell``: a formula-like name kept as text)."""
    if row.get("suppressed") and column in ("count", "closed"):
        return hidden_count()
    return csv_cells.cell(row[column])


@bp.get("/council/trends.csv")
@require("council")
def trends_csv():
    """One table of the page's question as CSV (``table``: weekly, monthly, months, areas, districts)."""
    table = (request.args.get("table") or "").strip()
    if table not in TABLES:
        raise BadInput(f"table must be one of {', '.join(TABLES)}, not {table!r}",
                       details=[{"field": "table", "value": table, "expected": list(TABLES)}])
    session = get_session()
    town, _, question, answer = _answer(session)
    if answer[table] is None:
        raise NotFound(f"table {table!r}: {town.slug} has no districts layer",
                       details=[{"field": "table", "value": table}])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TABLES[table])
    for row in answer[table]:
        writer.writerow([_cell(row, c) for c in TABLES[table]])
    name = (f"trends-{town.slug}-{table}-{question.service_code or 'all'}"
            f"-{question.first:%Y-%m}-{question.last:%Y-%m}.csv")
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
