"""The council's hexagon grid: a town's cells, and its reports counted per cell and month.

Cells are PostGIS's ``ST_HexagonGrid`` hexagons of edge ``cell_m`` metres in the database's
metric CRS, those that touch the municipality's boundary; a cell is named by the grid's
column and row (``i``, ``j``), the same for every question with that cell size, so counts
kept for one question serve the next.

Counting years of reports for every map would cost as much as the map's whole budget, so the
counts are kept per town, cell size, service, month and cell in ``hotspot_cells`` by
``acting.hotspot_counts`` (brought up to date before each read and by the worker); this
module reads them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_urp.errors import BadInput, NotFound
from geo_urp.language import N_
from geo_urp.loading import layer_cache
from geo_urp.acting.hotspot_counts import TIME_ZONE
from geo_urp.models import WGS84

MIN_CELL_M, MAX_CELL_M = 100, 5000  # below 100 m a cell can be one household's
MAX_CELLS = 20_000

# The hexagons over the town's boundary, their centres (metres) and shapes (WGS84).
# ``ST_HexagonGrid`` lays the cells on the grid's fixed origin, so (i, j) are the same cells that
# ``hotspot_of`` names.
_TOWN_CELLS = text(f"""
    SELECT h.i, h.j, ST_X(ST_Centroid(h.geom)) AS x, ST_Y(ST_Centroid(h.geom)) AS y,
           ST_AsGeoJSON(ST_Transform(h.geom, {WGS84}), 6) AS geojson
    FROM municipalities m, ST_HexagonGrid(:cell_m, m.boundary) AS h
    WHERE m.id = :mid AND ST_Intersects(h.geom, m.boundary)
    ORDER BY h.i, h.j
""")

_CELL_ESTIMATE = text("SELECT ST_Area(ST_Envelope(boundary)) AS area FROM municipalities WHERE id = :mid")

_COUNTS = text("""
    SELECT h.month, h.i, h.j, sum(h.n)::integer AS n FROM hotspot_cells h
    WHERE h.municipality_id = :mid AND h.cell_m = :cell_m AND h.month BETWEEN :first AND :last
      AND h.service_code = ANY(CAST(:codes AS text[]))
    GROUP BY h.month, h.i, h.j
""")


@dataclass(frozen=True)
class TownCells:
    """A town's hexagons at one cell size: grid indices, centres in metres, shapes as GeoJSON."""

    i: np.ndarray
    j: np.ndarray
    x: np.ndarray
    y: np.ndarray
    geojson: list[str]

    def index(self) -> dict[tuple[int, int], int]:
        """Position of each (i, j) in these arrays."""
        return {(int(a), int(b)): k for k, (a, b) in enumerate(zip(self.i, self.j))}


def check_cell_m(value) -> int:
    """A cell size in whole metres between ``MIN_CELL_M`` and ``MAX_CELL_M``."""
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_CELL_M <= value <= MAX_CELL_M:
        raise BadInput(N_("cell_m deve essere un numero intero di metri da %(low)s a %(high)s, non %(value)s"),
                       low=MIN_CELL_M, high=MAX_CELL_M, value=repr(value),
                       details=[{"field": "cell_m"}])
    return value


def town_cells(session: Session, municipality_id: int, cell_m: int) -> TownCells:
    """The town's hexagons at ``cell_m``, worked out once per load of its layers (``layer_cache``)."""
    check_cell_m(cell_m)
    area = session.execute(_CELL_ESTIMATE, {"mid": municipality_id}).scalar()
    if area is None:
        raise NotFound(N_("il comune %(id)s non ha un confine caricato: nessuna griglia su cui contare"),
                       id=municipality_id)
    if area / (2.598 * cell_m * cell_m) > MAX_CELLS:
        raise BadInput(N_("cell_m=%(cell_m)s taglierebbe il comune in più di %(most)s celle; scegli una cella più "
                          "grande"), cell_m=cell_m, most=MAX_CELLS,
                       details=[{"field": "cell_m"}])

    def build() -> TownCells:
        rows = session.execute(_TOWN_CELLS, {"mid": municipality_id, "cell_m": cell_m}).all()
        return TownCells(i=np.array([r.i for r in rows], dtype=int), j=np.array([r.j for r in rows], dtype=int),
                         x=np.array([r.x for r in rows], dtype=float), y=np.array([r.y for r in rows], dtype=float),
                         geojson=[r.geojson for r in rows])

    return layer_cache.cached(session, municipality_id, f"hotspot_cells:{cell_m}", build)


def monthly_counts(session: Session, municipality_id: int, cell_m: int, first: date, last: date,
                   service_codes: tuple[str, ...], cells: TownCells) -> tuple[list[date], np.ndarray]:
    """The months from ``first`` to ``last`` (first days) and a [months × cells] array of the
    reports of ``service_codes``.

    Reports in no cell of the town (outside its boundary's grid) are left out.
    """
    months = _months(first, last)
    counts = np.zeros((len(months), len(cells.i)), dtype=np.int64)
    where = cells.index()
    at = {m: k for k, m in enumerate(months)}
    rows = session.execute(_COUNTS, {"mid": municipality_id, "cell_m": cell_m, "first": months[0],
                                     "last": months[-1], "codes": list(service_codes)})
    for row in rows:
        k = where.get((row.i, row.j))
        if k is not None:
            counts[at[row.month], k] += row.n
    return months, counts


def _months(first: date, last: date) -> list[date]:
    """First days of every month from ``first``'s to ``last``'s, both included."""
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out

