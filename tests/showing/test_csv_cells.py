"""``showing.csv_cells``: every CSV of the service (crew list, council hotspots and trends) keeps a
text a spreadsheet would run as a formula as text."""
from __future__ import annotations

import pytest

from geo_urp.showing.csv_cells import cell


@pytest.mark.parametrize("value, expected", [
    ('=HYPERLINK("x")', '\'=HYPERLINK("x")'), ("-1+1", "'-1+1"), ("+39 333", "'+39 333"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("Via Roma", "Via Roma"), ("Via =Roma", "Via =Roma"),
    (-3, "-3"), (2.5, "2.5"), (None, ""),
])
def test_a_cell_that_a_spreadsheet_would_run_is_kept_as_text(value, expected):
    assert str(cell(value)) == expected
