"""``reading.privacy.hide_small``: the council never sees, nor can work out by subtraction, a count
of fewer than k reports."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from geo_urp.reading.privacy import COUNCIL_MIN_REPORTS, hide_small

K = COUNCIL_MIN_REPORTS


def test_a_lone_small_group_takes_the_smallest_shown_one_with_it():
    hidden = hide_small([[("may", 1), ("april", 4), ("march", 7)]])
    assert hidden == {"may", "april"}           # 7 less the months shown would tell May's one


def test_small_groups_that_add_up_to_k_need_no_partner():
    assert hide_small([[("a", 1), ("b", 2), ("c", 9)]]) == {"a", "b"}
    assert hide_small([[("a", 0), ("b", 0), ("c", 9)]]) == {"a", "b"}   # nobody to find


def test_hiding_in_one_partition_opens_another():
    # "x" hidden in the first partition leaves "y" alone hidden in the second, with "z" shown
    months = [("x", 1), ("y", 5), ("w", 8)]
    services = [("y", 5), ("z", 1), ("v", 6)]
    hidden = hide_small([months, services])
    for parts in (months, services):
        left = sum(n for g, n in parts if g in hidden)
        assert left == 0 or left >= K


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.integers(0, 12), min_size=1, max_size=6), min_size=1, max_size=5),
       st.lists(st.tuples(st.integers(0, 4), st.integers(0, 5), st.integers(0, 4), st.integers(0, 5)), max_size=6))
def test_no_partition_leaves_a_small_group_to_subtraction(tables, shared):
    # Partitions of groups; some groups sit in two, as a month of a service is both among its
    # month's services and among its service's months.
    counts = {(t, i): n for t, row in enumerate(tables) for i, n in enumerate(row)}
    partitions = [[((t, i), n) for i, n in enumerate(row)] for t, row in enumerate(tables)]
    for a, i, b, j in shared:
        if (a, i) in counts and (b, j) in counts and a != b:
            partitions.append([((a, i), counts[(a, i)]), ((b, j), counts[(b, j)])])
    hidden = hide_small(partitions)
    assert {g for g, n in counts.items() if n < K} <= hidden
    for parts in partitions:
        left = sum(n for g, n in parts if g in hidden)
        every_part_hidden = all(g in hidden for g, _ in parts)   # then only the total says it
        assert left == 0 or left >= K or every_part_hidden, (parts, hidden)
