"""One rule for every CSV the service writes: a text a spreadsheet would run as a formula is kept as text.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
spreadsheet programs as a formula (CSV injection, OWASP); street and area names come from the
town's layer files and could begin so. Such a cell gets a leading apostrophe, which spreadsheets
show as nothing and which keeps the rest as text.
"""
from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value):
    """A value as a CSV cell: None empty, a formula-like text kept as text, anything else as is."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
