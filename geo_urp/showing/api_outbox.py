"""``/api/outbox``: the closing messages and their delivery state; call-backs marked done (SPEC §4)."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from geo_urp import audit
from geo_urp.acting import outbox
from geo_urp.errors import BadInput
from geo_urp.language import N_
from geo_urp.reading import outbox as outbox_reads
from geo_urp.showing.auth import municipality_ids, require
from geo_urp.showing.database import get_session
from geo_urp.showing.extensions import csrf

bp = Blueprint("api_outbox", __name__, url_prefix="/api")
csrf.exempt(bp)


@bp.get("/outbox")
@require("operator")
def list_outbox():
    """?status=pending|sent|failed|done&channel=email|sms|phone&jurisdiction_id=…&limit=…"""
    session = get_session()
    found = outbox_reads.items(session, municipality_ids(g.principal, request.args.get("jurisdiction_id")),
                               request.args)
    audit.contact_viewed(session, g.principal.name, "outbox",
                         [(i.view["id"], i.municipality_id) for i in found if i.view["to"]])
    session.commit()
    return jsonify(items=[i.view for i in found])


@bp.post("/outbox/<int:outbox_id>/done")
@require("operator")
def call_back_done(outbox_id: int):
    """An operator made the call-back: {"note": "…"}"""
    body = request.get_json(silent=True)
    if body is None and not request.get_data():
        body = {}
    if not isinstance(body, dict):
        raise BadInput(N_("il corpo deve essere un oggetto JSON"), details=[{"field": "request"}])
    session = get_session()
    msg = outbox.mark_done(session, outbox_id, g.principal, body.get("note"),
                           set(municipality_ids(g.principal, None)))
    session.commit()
    return jsonify(id=msg.id, status=msg.status, done_by=msg.done_by, note=msg.note)


@bp.post("/outbox/<int:outbox_id>/retry")
@require("operator")
def retry_delivery(outbox_id: int):
    """Send a failed e-mail or SMS again (the worker takes it on its next pass)."""
    session = get_session()
    msg = outbox.retry(session, outbox_id, g.principal, set(municipality_ids(g.principal, None)))
    session.commit()
    return jsonify(id=msg.id, status=msg.status, attempts=msg.attempts)
