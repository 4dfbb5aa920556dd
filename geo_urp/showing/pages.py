"""Pages: ``/login`` and each role's landing page (SPEC §6)."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext, lazy_gettext, ngettext
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from sqlalchemy import exists, select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from geo_urp.accounts import TooManyAttempts, attempt_login, new_session_id, revoke_session
from geo_urp.catalog import catalog_for
from geo_urp.errors import Forbidden
from geo_urp.models import Address, Municipality
from geo_urp.reading import work_list
from geo_urp.reasoning.responsibility import SKILL
from geo_urp.showing.auth import LoginUser, current_principal, municipality_ids, reader_language, require
from geo_urp.showing.database import get_session
from geo_urp.showing.maps import drawn_map
from geo_urp.showing.wording import KIND, STATUS, names

bp = Blueprint("pages", __name__)
# Each role's own page (SPEC §6): where its login lands and where ``/`` sends it.
LANDING = {"operator": "pages.operator", "crew": "crew.work_list_page", "council": "council.overview",
           "admin": "admin.overview"}


class LoginForm(FlaskForm):
    username = StringField(lazy_gettext("Utente"), validators=[
        DataRequired(lazy_gettext("Scrivi il nome utente.")),
        Length(max=80, message=lazy_gettext("Il nome utente ha al massimo 80 caratteri."))])
    password = PasswordField(lazy_gettext("Password"), validators=[
        DataRequired(lazy_gettext("Scrivi la password.")),
        Length(max=200, message=lazy_gettext("La password ha al massimo 200 caratteri."))])


@bp.app_errorhandler(CSRFError)
def _expired_form(exc: CSRFError):
    """A form without a valid CSRF token: say so in the page's language (JSON on machine paths)."""
    if request.path.startswith(("/api/", "/open311/")):
        return jsonify(error=f"CSRF check failed: {exc.description} Send the X-CSRFToken header of the "
                             "page, or authenticate with X-API-Key"), 400
    form = LoginForm(formdata=None)
    return render_template("login.html", form=form, principal=None,
                           error=gettext("Il modulo è scaduto o incompleto: ricarica la pagina e accedi di nuovo.")), 400


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with a username and password, then go to the role's page; throttled per name and
    per address (``accounts.attempt_login``): a 429 with ``Retry-After`` while refused.

    The address is ``request.remote_addr``: behind a reverse proxy, Werkzeug's ``ProxyFix``
    must be set up to make it the client's (``X-Forwarded-For`` is not trusted by itself)."""
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        db = get_session()
        try:
            user = attempt_login(db, form.username.data, form.password.data, request.remote_addr or "")
        except TooManyAttempts as exc:
            db.rollback()
            minutes = -(-exc.retry_after // 60)
            error = ngettext("Troppi accessi non riusciti: riprova tra %(num)d minuto.",
                             "Troppi accessi non riusciti: riprova tra %(num)d minuti.", minutes)
            return (render_template("login.html", form=form, error=error, principal=None), 429,
                    {"Retry-After": str(exc.retry_after)})
        db.commit()
        if user is not None:
            login_user(LoginUser(user, new_session_id()))
            return redirect(url_for(LANDING.get(user.role, "pages.operator")))
        error = gettext("Utente o password errati.")
    status = 401 if error else 400 if form.errors else 200
    return render_template("login.html", form=form, error=error, principal=None), status


@bp.post("/logout")
def logout():
    """End this login session: its cookie, and every copy of it, is refused from now on."""
    if current_user.is_authenticated:
        db = get_session()
        revoke_session(db, current_user.sid, current_app.permanent_session_lifetime)
        db.commit()
    logout_user()
    return redirect(url_for("pages.login"))


@bp.get("/")
def index():
    """Send a visitor to their role's page (``LANDING``), or to the login; a public key has no page."""
    principal = current_principal()
    if principal is None:
        return redirect(url_for("pages.login"))
    if principal.role not in LANDING:
        raise Forbidden(f"the {principal.role} role has no page here: it is for the Open311 API (/open311/v2/)")
    return redirect(url_for(LANDING[principal.role]))


@bp.get("/operator")
@require("operator")
def operator():
    """The live map of open incidents over the town's layers (the first town, or ?jurisdiction_id=),
    beside the call intake form for every town the operator answers for, the list of the town's
    open incidents with their actions (assign from the town's crews, merge, move a call) and the
    pending call-backs."""
    mids = municipality_ids(g.principal, request.args.get("jurisdiction_id"))
    session = get_session()
    towns = session.scalars(select(Municipality).where(Municipality.id.in_(municipality_ids(g.principal, None)))
                            .order_by(Municipality.name, Municipality.slug)).all()
    muni = min((t for t in towns if t.id in mids), key=lambda t: t.slug, default=None)
    if muni is None:
        abort(404, "no municipality is loaded yet")
    # The town's layers as drawn for this load of them, the civic numbers fetched when ticked
    drawn = drawn_map(session, muni, assets_base="/vendor", tiles_url=current_app.config["MAP_TILES_URL"],
                      tiles_attribution=current_app.config["MAP_TILES_ATTRIBUTION"], layers_collapsed=True,
                      civic_numbers=False)
    return render_template(
        "operator.html", municipality=muni, principal=g.principal, map_name=drawn["map_name"],
        map_header=drawn["header"], map_html=drawn["html"], map_script=drawn["script"],
        layer_control_name=drawn["control_name"],
        # offered only when the town has civic numbers (an absent layer switches off what needs it)
        civic_numbers=({"name": gettext("numeri civici"),
                        "url": url_for("api_layers.layer", layer="addresses", jurisdiction_id=muni.slug)}
                       if session.scalar(select(exists().where(Address.municipality_id == muni.id))) else None),
        incidents_url=url_for("api_incidents.list_incidents", jurisdiction_id=muni.slug),
        callbacks_url=url_for("api_outbox.list_outbox", channel="phone", status="pending",
                              jurisdiction_id=muni.slug),
        crews=[{"crew_id": c.crew_id, "name": c.name, "skills": c.skills, "area_ids": c.area_ids}
               for c, _ in work_list.crews(session, [muni.id])],
        kind_skills=SKILL, kind_names=names(KIND), status_names=names(STATUS),
        towns=[{"slug": t.slug, "name": t.name} for t in towns],
        # one service list for the form: today every town has the same (catalog.catalog_for); its
        # names, groups, questions and choices in the reader's words
        services=[{**svc.as_open311(reader_language()),
                   "attributes": svc.definition(reader_language())["attributes"]}
                  for svc in catalog_for(session, muni.id).services])
