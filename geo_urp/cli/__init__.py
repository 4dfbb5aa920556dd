"""The command groups of ``python -m geo_urp`` (SPEC §5).

Each command parses its options, calls one service function, and prints: commands on the
data (``data``), on people (``people``), and those that run the service (``running``).
"""
from __future__ import annotations

from flask import Flask

from geo_urp.cli.data import db_cli, incidents_cli, layers_cli, map_command, simulate, translations_cli
from geo_urp.cli.people import callers_cli, keys_cli, users_cli
from geo_urp.cli.running import serve, worker


def register(app: Flask) -> None:
    """Attach every command group to the app's CLI."""
    for command in (db_cli, layers_cli, keys_cli, users_cli, callers_cli, incidents_cli, translations_cli,
                    map_command, simulate, serve, worker):
        app.cli.add_command(command)
