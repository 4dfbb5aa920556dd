"""What every command shares: the database it works on, and how it reports a refusal."""
from __future__ import annotations

import sys

import click
from flask import current_app

from geo_urp.errors import GeoUrpError


def database_url() -> str:
    """The service's database (``DATABASE_URL``)."""
    return current_app.config["DATABASE_URL"]


def admin_database_url() -> str:
    """The owner's database URL, which migrations and grants run as (``DATABASE_ADMIN_URL``)."""
    from geo_urp.settings import admin_url

    return admin_url(database_url(), current_app.config.get("DATABASE_ADMIN_URL", ""))


def fail(exc: GeoUrpError) -> None:
    """Print what was refused, with its details, and exit 1."""
    click.echo(f"error: {exc.message}", err=True)
    for detail in exc.details[:100]:
        click.echo(f"  {detail}", err=True)
    sys.exit(1)
