"""geo_urp: geospatial incident mapping for a municipality's 24-hour citizen line.

The package itself imports nothing: the core (loading, locating, reasoning, acting,
reading) runs without Flask; ``create_app`` builds the web application on demand.
"""
from __future__ import annotations


def create_app(config: dict | None = None):
    """Build the Flask application (``geo_urp.showing.app.create_app``); ``config`` overrides the settings."""
    from geo_urp.showing.app import create_app as build

    return build(config)
