"""``crews.csv``: who works where and with which skills (SPEC §2)."""
from __future__ import annotations

from pathlib import Path

from geo_urp.loading.layers import CREW_FIELDS, CREW_OPTIONAL, CREWS_FILE
from geo_urp.loading.readers import read_crews
from geo_urp.loading.validate import LayerResult, Rejection
from geo_urp.models.crews import SKILLS


def validate_crews(path: Path, area_ids: set[str]) -> LayerResult:
    """Check each crew row: required fields, known skills, existing areas, unique ids."""
    rows = read_crews(path)
    result = LayerResult("crews", read=len(rows))
    seen: dict[str, int] = {}
    for pos, row in enumerate(rows, start=1):
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        cid = row.get("crew_id") or None
        missing = [f for f in CREW_FIELDS if not row.get(f)]
        if missing:
            result.rejections.append(Rejection(pos, cid, f"missing {', '.join(missing)}"))
            continue
        skills = row["skills"].split()
        unknown = [s for s in skills if s not in SKILLS]
        if unknown:
            result.rejections.append(Rejection(
                pos, cid, f"unknown skill(s) {', '.join(unknown)}; expected some of {' '.join(SKILLS)}"))
            continue
        areas = row["area_ids"].split()
        bad_areas = [a for a in areas if a not in area_ids]
        if bad_areas:
            result.rejections.append(Rejection(
                pos, cid, f"area(s) {', '.join(bad_areas)} not in crew_areas"))
            continue
        if cid in seen:
            result.rejections.append(Rejection(pos, cid, f"duplicate crew_id {cid!r} (first at row {seen[cid]})"))
            continue
        seen[cid] = pos
        result.rows.append({
            "crew_id": cid, "name": row["name"], "area_ids": areas, "skills": skills,
            **{f: row.get(f) or None for f in CREW_OPTIONAL},
            "props": {k: v for k, v in row.items() if k not in CREW_FIELDS + CREW_OPTIONAL and v},
        })
    if not result.rows and rows:
        result.notes.append(f"{CREWS_FILE}: no usable crew")
    return result
