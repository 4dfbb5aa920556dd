"""Showing: HTTP pages and APIs. Views parse, call one service, render."""
from __future__ import annotations

from flask import Blueprint


def blueprints() -> list[Blueprint]:
    """Every blueprint of the service, in registration order."""
    from geo_urp.showing.api_geocode import bp as api_geocode
    from geo_urp.showing.api_hotspots import bp as api_hotspots
    from geo_urp.showing.api_audit import bp as api_audit
    from geo_urp.showing.api_incidents import bp as api_incidents
    from geo_urp.showing.api_layers import bp as api_layers
    from geo_urp.showing.api_outbox import bp as api_outbox
    from geo_urp.showing.api_trends import bp as api_trends
    from geo_urp.showing.assets import bp as assets
    from geo_urp.showing.health import bp as health
    from geo_urp.showing.open311 import bp as open311
    from geo_urp.showing.openapi import bp as openapi
    from geo_urp.showing.pages import bp as pages
    from geo_urp.showing.pages_admin import bp as admin
    from geo_urp.showing.pages_council import bp as council
    from geo_urp.showing.pages_council_trends import bp as council_trends
    from geo_urp.showing.pages_crew import bp as crew
    from geo_urp.showing.wording import bp as wording

    return [health, assets, api_incidents, api_outbox, api_audit, api_geocode, api_hotspots, api_trends, api_layers,
            open311, openapi, wording, pages,
            crew, council, council_trends, admin]
