"""The command groups of ``python -m geo_urp`` (SPEC §5).

Each command parses its options, calls one service function, and prints.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from geo_urp import municipalities
from geo_urp.db import init_db, session_scope
from geo_urp.errors import GeoUrpError
from geo_urp.language import DEFAULT as DEFAULT_LANGUAGE
from geo_urp.language import LANGUAGES
from geo_urp.models.auth import KEY_ROLES, USER_ROLES

db_cli = AppGroup("db", help="Database schema commands.")
layers_cli = AppGroup("layers", help="Load and build municipal layers.")
keys_cli = AppGroup("keys", help="API keys.")
users_cli = AppGroup("users", help="Logins.")
callers_cli = AppGroup("callers", help="A caller's personal data: export, erase (GDPR).")
incidents_cli = AppGroup("incidents", help="Incident reasoning.")
translations_cli = AppGroup("translations", help="The catalogs of the pages' languages.")


def _url() -> str:
    return current_app.config["DATABASE_URL"]


def _fail(exc: GeoUrpError) -> None:
    click.echo(f"error: {exc.message}", err=True)
    for detail in exc.details[:100]:
        click.echo(f"  {detail}", err=True)
    sys.exit(1)


def _admin_url() -> str:
    from geo_urp.settings import admin_url

    return admin_url(_url(), current_app.config.get("DATABASE_ADMIN_URL", ""))


@db_cli.command("init")
def db_init() -> None:
    """Create or migrate the schema, as its owner (DATABASE_ADMIN_URL; idempotent)."""
    init_db(_admin_url())
    click.echo("database schema is up to date")


@db_cli.command("grant-app")
@click.option("--role", default=None, help="The service's login role (default: DATABASE_URL's user).")
@click.option("--password", default=None,
              help="Its password (default: DATABASE_URL's, if any; none: the server's own authentication).")
def db_grant_app(role: str | None, password: str | None) -> None:
    """Make the service's role, as the owner: log in, read and write rows; no DDL (idempotent)."""
    from sqlalchemy.engine import make_url

    from geo_urp.db import grant_app_role

    app_url, admin = make_url(_url()), make_url(_admin_url())
    role = role or app_url.username
    if not role or role == admin.username:
        _fail(GeoUrpError(f"--role {role!r}: the service's role must not be the owner's ({admin.username!r}); "
                          "set DATABASE_URL to the service's role or name it"))
    if password is None and role == app_url.username:
        password = app_url.password
    try:
        created = grant_app_role(_admin_url(), role, password)
    except GeoUrpError as exc:
        _fail(exc)
    click.echo(f"role {role} {'created' if created else 'kept'}: it may read and write rows, not the schema")


@layers_cli.command("load")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--municipality", "slug", required=True, help="Slug of the municipality, e.g. mezzolombardo.")
@click.option("--name", default=None, help="Display name (default: the boundary's name).")
@click.option("--strict", is_flag=True, help="Refuse the whole load if any feature is rejected.")
def layers_load(folder: Path, slug: str, name: str | None, strict: bool) -> None:
    """Load or replace a municipality's layers from FOLDER (all or nothing).

    An existing municipality's open calls are snapped again to the new layers and its
    open incidents rebuilt from them, in the same transaction.
    """
    from geo_urp.acting.layers import LOADED_TABLES, load_layers
    from geo_urp.db import analyze
    from geo_urp.loading.loader import LoadOptions
    from geo_urp.locating.snapping import SnapLimits

    cfg = current_app.config
    options = LoadOptions(
        boundary_margin_m=cfg["LOAD_BOUNDARY_MARGIN_M"], node_tolerance_m=cfg["WATER_NODE_TOLERANCE_M"],
        valve_tolerance_m=cfg["WATER_VALVE_TOLERANCE_M"], source_tolerance_m=cfg["WATER_SOURCE_TOLERANCE_M"],
        strict=strict)
    try:
        with session_scope(_url()) as session:
            report, reload = load_layers(session, folder, slug, name, options, SnapLimits.from_config(cfg))
    except GeoUrpError as exc:
        click.echo(f"nothing changed for {slug}", err=True)
        _fail(exc)
    analyze(_admin_url(), LOADED_TABLES)
    for line in report.lines() + (reload.lines() if reload.replayed else []):
        click.echo(line)
    click.echo(f"loaded {slug}")


@layers_cli.command("from-osm")
@click.argument("pbf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--clip", required=True, help="minlon,minlat,maxlon,maxlat or a polygon file.")
@click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
def layers_from_osm(pbf: Path, clip: str, outdir: Path) -> None:
    """Write SPEC layer files (streets, addresses, landmarks, boundary) from OpenStreetMap data."""
    from geo_urp.layer_files.osm import from_osm, parse_clip

    try:
        summary = from_osm(pbf, parse_clip(clip), outdir)
    except ValueError as exc:
        _fail(GeoUrpError(f"--clip {clip!r}: {exc}"))
    except GeoUrpError as exc:
        _fail(exc)
    for layer, count in summary.items():
        click.echo(f"  {layer:<18} {count}")
    click.echo(f"wrote {outdir}")


@layers_cli.command("synth-utilities")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--seed", default=1, type=int, show_default=True)
def layers_synth(folder: Path, seed: int) -> None:
    """Add synthetic lamps, circuits, cabinets, water network, crew areas and crews to FOLDER."""
    from geo_urp.layer_files.synth import synth_utilities

    try:
        summary = synth_utilities(folder, seed)
    except GeoUrpError as exc:
        _fail(exc)
    for layer, count in summary.items():
        click.echo(f"  {layer:<18} {count}")
    click.echo(f"wrote synthetic utilities into {folder} (seed {seed})")


@click.command("map")
@with_appcontext
@click.option("--municipality", "slug", required=True)
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def map_command(slug: str, out: Path) -> None:
    """Write a map of every loaded layer to OUT (HTML, assets beside it, works offline)."""
    from geo_urp.showing.maps import write_map

    cfg = current_app.config
    try:
        with session_scope(_url()) as session:
            path = write_map(session, slug, out, cfg["MAP_TILES_URL"], cfg["MAP_TILES_ATTRIBUTION"])
    except GeoUrpError as exc:
        _fail(exc)
    click.echo(f"wrote {path}")


@keys_cli.command("add")
@click.option("--role", required=True, type=click.Choice(list(KEY_ROLES)))
@click.option("--municipality", "slug", default=None, help="Restrict the key to one municipality.")
@click.option("--crew", "crew_id", default=None, help="For a crew key: the crew it belongs to.")
@click.option("--label", default=None, help="Who or what the key is for.")
def keys_add(role: str, slug: str | None, crew_id: str | None, label: str | None) -> None:
    """Create an API key; it is printed once, alone on the last line."""
    from geo_urp.accounts import create_api_key

    try:
        with session_scope(_url()) as session:
            key = create_api_key(session, role, slug, crew_id, label)
    except GeoUrpError as exc:
        _fail(exc)
    click.echo(f"created a {role} key (only its hash is stored; copy it now):")
    click.echo(key)


@users_cli.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(list(USER_ROLES)))
@click.option("--crew", "crew_id", default=None)
@click.option("--municipality", "slug", default=None)
@click.option("--language", default=DEFAULT_LANGUAGE, type=click.Choice(list(LANGUAGES)),
              help="The language of the login's pages (default: Italian).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def users_add(username: str, role: str, crew_id: str | None, slug: str | None, language: str,
              password: str) -> None:
    """Create a login with a role."""
    from geo_urp.accounts import create_user

    try:
        with session_scope(_url()) as session:
            create_user(session, username, password, role, crew_id, slug, language)
    except GeoUrpError as exc:
        _fail(exc)
    click.echo(f"created user {username} ({role}, {language})")


@users_cli.command("passwd")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def users_passwd(username: str, password: str) -> None:
    """Give a login a new password; every session it has open ends."""
    from geo_urp.accounts import set_password

    try:
        with session_scope(_url()) as session:
            set_password(session, username, password)
    except GeoUrpError as exc:
        _fail(exc)
    click.echo(f"new password for {username}; its open sessions are ended")


@translations_cli.command("compile")
def translations_compile() -> None:
    """Compile each catalog (.po to .mo) that changed since it was last compiled."""
    from geo_urp.language import compile_catalogs

    for mo in compile_catalogs():
        click.echo(f"compiled {mo.relative_to(mo.parents[3])}")


@incidents_cli.command("recompute")
@click.option("--municipality", "slug", required=True)
@click.option("--dry-run", is_flag=True, help="Only tell what would be rebuilt, and which operator changes lost.")
def incidents_recompute(slug: str, dry_run: bool) -> None:
    """Rebuild the open incidents of a municipality from their reports (after new rules or layers).

    Operator merges and moves on open incidents are not kept: the command counts them first.
    """

    from geo_urp.reasoning.recompute import operator_corrections, recompute_open

    with session_scope(_url()) as session:
        try:
            mid = municipalities.by_slug(session, slug, field="--municipality").id
        except GeoUrpError as exc:
            _fail(exc)
        lost = operator_corrections(session, mid)
        if lost:
            click.echo(f"{lost} operator merge(s) and move(s) on open incidents "
                       f"{'would not be' if dry_run else 'are not'} replayed", err=True)
        if dry_run:
            click.echo("dry run: nothing changed")
            return
        replayed, now_open = recompute_open(session, mid)
    click.echo(f"replayed {replayed} reports: {now_open} open incidents")


@incidents_cli.command("rules")
@click.option("--municipality", "slug", required=True)
@click.option("--set", "overrides_file", type=click.File("r", encoding="utf-8"), default=None,
              help="A JSON file of overrides, e.g. {\"lighting\": {\"circuit_min_lamps\": 4}}.")
@click.option("--reset", is_flag=True, help="Drop the municipality's overrides: the defaults apply.")
def incidents_rules(slug: str, overrides_file, reset: bool) -> None:
    """Show a municipality's incident rules (defaults with its overrides), or change its overrides.

    New rules apply to the next calls; ``incidents recompute`` applies them to the open incidents.
    """
    import json

    from geo_urp.reasoning.rules import check_overrides, rules_for

    try:
        with session_scope(_url()) as session:
            muni = municipalities.by_slug(session, slug, field="--municipality")
            if overrides_file is not None and reset:
                raise GeoUrpError("give --set FILE or --reset, not both")
            if overrides_file is not None:
                try:
                    overrides = json.load(overrides_file)
                except ValueError as exc:
                    raise GeoUrpError(f"{overrides_file.name} is not valid JSON: {exc}") from None
                muni.rules = check_overrides(overrides)
            elif reset:
                muni.rules = {}
            effective = rules_for(muni.rules).values
            own = muni.rules or {}
    except GeoUrpError as exc:
        _fail(exc)
    click.echo(json.dumps({"overrides": own, "effective": effective}, indent=2, ensure_ascii=False))
    if overrides_file is not None or reset:
        click.echo(f"saved; run `incidents recompute --municipality {slug}` to apply them to the open incidents",
                   err=True)


@click.command("simulate")
@with_appcontext
@click.option("--url", default=None, help="Base URL of a running service (replay mode).")
@click.option("--key", default=None, help="An operator API key of that service.")
@click.option("--hours", default=8.0, show_default=True, type=float)
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--history", default=None, type=int, help="Write N past, closed reports straight into the database.")
@click.option("--municipality", default=None, help="Slug (optional when one town is loaded).")
@click.option("--years", default=2.0, show_default=True, type=float)
@click.option("--speed", default=None, type=float, help="Replay speed (60 = 60x real time); default: at once.")
@click.option("--truth", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Write the planted faults (ground truth) as JSON.")
def simulate(url, key, hours, seed, history, municipality, years, speed, truth) -> None:
    """Replay a realistic night of calls with planted faults, or write past reports (--history N)."""
    from geo_urp.simulate import cli_simulate

    try:
        code = cli_simulate(_url(), owner_url=_admin_url(), url=url, key=key, hours=hours, seed=seed,
                            history=history, municipality=municipality, years=years,
                            jurisdiction_id=municipality, speed=speed, truth=truth, echo=click.echo)
    except GeoUrpError as exc:
        _fail(exc)
    sys.exit(code)


def _usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@click.command("serve")
@with_appcontext
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000, type=int)
@click.option("--workers", default=lambda: _usable_cpus() + 1, type=int, show_default="cores + 1",
              help="gunicorn worker processes: one more than the cores this process may use, as a worker "
                   "waiting on PostgreSQL leaves its core to another. Each holds its own PostgreSQL "
                   "connections (one at a time).")
@click.option("--no-worker", is_flag=True, help="Do not run the background work in this process.")
def serve(host: str, port: int, workers: int, no_worker: bool) -> None:
    """Run the production server (gunicorn) and, unless --no-worker, the background work."""
    from geo_urp.serving import run_server

    run_server(current_app.config, host, port, workers, with_worker=not no_worker)


@click.command("worker")
@with_appcontext
def worker() -> None:
    """Run the background work alone."""
    from geo_urp.acting.worker import run_forever

    run_forever(current_app.config)


def _subject(session, email: str | None, phone: str | None) -> list[int]:
    from geo_urp.acting import erasure

    ids = erasure.find(session, email, phone)
    if not ids:
        click.echo("no report holds this e-mail address or phone number", err=True)
        sys.exit(1)
    return ids


@callers_cli.command("export")
@click.option("--email", default=None)
@click.option("--phone", default=None)
def callers_export(email: str | None, phone: str | None) -> None:
    """Print as JSON everything kept about whoever left this e-mail address or phone number."""
    import json

    from geo_urp.acting import erasure

    try:
        with session_scope(_url()) as session:
            found = erasure.export(session, _subject(session, email, phone), "cli")
    except GeoUrpError as exc:
        _fail(exc)
    click.echo(json.dumps(found, ensure_ascii=False, indent=2))


@callers_cli.command("erase")
@click.option("--email", default=None)
@click.option("--phone", default=None)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def callers_erase(email: str | None, phone: str | None, yes: bool) -> None:
    """Erase now the contact data of whoever left this e-mail address or phone number."""
    from geo_urp.acting import erasure

    try:
        with session_scope(_url()) as session:
            ids = _subject(session, email, phone)
            if not yes:
                click.confirm(f"erase the contact of {len(ids)} report(s)?", abort=True)
            count = erasure.erase(session, ids, "cli")
    except GeoUrpError as exc:
        _fail(exc)
    click.echo(f"erased the contact of {count} report(s); the reports stay, with no person in them")


def register(app: Flask) -> None:
    """Attach every command group to the app's CLI."""
    for command in (db_cli, layers_cli, keys_cli, users_cli, callers_cli, incidents_cli, translations_cli,
                    map_command, simulate, serve, worker):
        app.cli.add_command(command)
