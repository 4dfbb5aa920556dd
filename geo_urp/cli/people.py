"""Commands on people: API keys (``keys``), logins (``users``) and callers' personal data
(``callers``: a data subject's export and erasure)."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from geo_urp.cli.common import database_url, fail
from geo_urp.db import session_scope
from geo_urp.errors import GeoUrpError
from geo_urp.language import DEFAULT as DEFAULT_LANGUAGE
from geo_urp.language import LANGUAGES
from geo_urp.models.auth import KEY_ROLES, USER_ROLES

keys_cli = AppGroup("keys", help="API keys.")
users_cli = AppGroup("users", help="Logins.")
callers_cli = AppGroup("callers", help="A caller's personal data: export, erase (GDPR).")


@keys_cli.command("add")
@click.option("--role", required=True, type=click.Choice(list(KEY_ROLES)))
@click.option("--municipality", "slug", default=None, help="Restrict the key to one municipality.")
@click.option("--crew", "crew_id", default=None, help="For a crew key: the crew it belongs to.")
@click.option("--label", default=None, help="Who or what the key is for.")
def keys_add(role: str, slug: str | None, crew_id: str | None, label: str | None) -> None:
    """Create an API key; it is printed once, alone on the last line."""
    from geo_urp.accounts import create_api_key

    try:
        with session_scope(database_url()) as session:
            key = create_api_key(session, role, slug, crew_id, label)
    except GeoUrpError as exc:
        fail(exc)
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
        with session_scope(database_url()) as session:
            create_user(session, username, password, role, crew_id, slug, language)
    except GeoUrpError as exc:
        fail(exc)
    click.echo(f"created user {username} ({role}, {language})")


@users_cli.command("passwd")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def users_passwd(username: str, password: str) -> None:
    """Give a login a new password; every session it has open ends."""
    from geo_urp.accounts import set_password

    try:
        with session_scope(database_url()) as session:
            set_password(session, username, password)
    except GeoUrpError as exc:
        fail(exc)
    click.echo(f"new password for {username}; its open sessions are ended")


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
        with session_scope(database_url()) as session:
            found = erasure.export(session, _subject(session, email, phone), "cli")
    except GeoUrpError as exc:
        fail(exc)
    click.echo(json.dumps(found, ensure_ascii=False, indent=2))


@callers_cli.command("erase")
@click.option("--email", default=None)
@click.option("--phone", default=None)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def callers_erase(email: str | None, phone: str | None, yes: bool) -> None:
    """Erase now the contact data of whoever left this e-mail address or phone number."""
    from geo_urp.acting import erasure

    try:
        with session_scope(database_url()) as session:
            ids = _subject(session, email, phone)
            if not yes:
                click.confirm(f"erase the contact of {len(ids)} report(s)?", abort=True)
            count = erasure.erase(session, ids, "cli")
    except GeoUrpError as exc:
        fail(exc)
    click.echo(f"erased the contact of {count} report(s); the reports stay, with no person in them")
