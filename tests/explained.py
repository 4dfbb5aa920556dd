"""An incident's explanation as an English reader reads it (``Incident.explanation`` is the Italian)."""
from __future__ import annotations

from geo_urp.reasoning import words


def in_english(inc) -> str:
    """The explanation of ``inc`` worded from its message parts in English."""
    return words.worded(inc.explanation_parts, "en")["explanation"]
