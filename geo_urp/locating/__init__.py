"""Locating: where a call is. Geocoding what operators type onto the town's own streets,
civics and landmarks (``geocoder``), placing a submission (``placing``) and snapping its
point to the street, lamp or water main it concerns (``snapping``). Nothing else."""
