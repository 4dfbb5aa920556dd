"""Which towns a statement reaches: read from its SQL (sqlglot's PostgreSQL parser), for the tests
that hold the service to docs/SCALING.md's plan.

On Citus the tables of a town's calls are distributed by ``municipality_id`` and co-located. A
join between two of them is carried out on the workers only when it equates their towns (else
Citus refuses it, or moves rows between workers), and a statement goes to the one worker holding
a town only when every such table in it is tied to a town it names.

``towns_of(sql)`` answers with the co-located tables of ``sql`` (by alias) and how they are tied:
``joined`` when every one of them is linked to the others by ``municipality_id`` equalities or to
a town the statement names, ``routed`` when every one is tied, directly or through such links,
to a town the statement names (an equality with a parameter or value, ``IN`` or ``= ANY``, or the
``municipality_id`` an INSERT writes).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp

# docs/SCALING.md: distributed by municipality_id, co-located (report_retries with them, point 1).
CO_LOCATED = frozenset({
    "reports", "caller_contacts", "incidents", "incident_reports", "incident_events", "report_updates",
    "outbox", "report_retries", "town_changes", "hotspot_cells", "hotspot_refreshes", "hotspot_answers",
    "trend_weeks", "trend_refreshes"})
_TOWN = "municipality_id"
_NAMED = "<the town named>"


@dataclass(frozen=True)
class Towns:
    tables: frozenset[str]  # "alias (table)" of every co-located table in the statement
    unjoined: frozenset[str]  # of those, the ones linked neither to the others nor to a named town
    unrouted: frozenset[str]  # of those, the ones tied to no town the statement names

    @property
    def joined(self) -> bool:
        return not self.unjoined

    @property
    def routed(self) -> bool:
        return not self.unrouted


def _scope_tables(node: exp.Expression) -> list[exp.Table]:
    """The tables a SELECT, UPDATE or DELETE reads directly (not in its subqueries)."""
    scope = node.find_ancestor(exp.Select, exp.Update, exp.Delete)
    if scope is None:
        return []
    return [t for t in scope.find_all(exp.Table) if t.find_ancestor(exp.Select, exp.Update, exp.Delete) is scope]


def _owner(column: exp.Column) -> str | None:
    """The alias a ``municipality_id`` column belongs to: its qualifier, or the one co-located table
    of its own scope when it has none."""
    if column.table:
        return column.table
    own = {t.alias_or_name for t in _scope_tables(column) if t.name in CO_LOCATED}
    return own.pop() if len(own) == 1 else None


def _is_town(node: exp.Expression) -> bool:
    return isinstance(node, exp.Column) and node.name == _TOWN


def _names_a_town(node: exp.Expression) -> bool:
    """A parameter, a value or an expression of them, not another column."""
    return not isinstance(node, exp.Column) and not list(node.find_all(exp.Column)) \
        and not list(node.find_all(exp.Select))


_NONE = Towns(frozenset(), frozenset(), frozenset())


@lru_cache(maxsize=4096)
def towns_of(sql: str) -> Towns:
    if (sql.split(None, 1) or [""])[0].upper() not in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH"):
        return _NONE  # savepoints, locks' SET, DDL: no rows of a town
    # psycopg2's parameters (%(name)s) and its escaped % (pg_trgm's operator) as PostgreSQL reads them.
    tree = sqlglot.parse_one(re.sub(r"%\((\w+)\)s", r":\1", sql).replace("%%", "%"), read="postgres")
    tables = {t.alias_or_name: t.name for t in tree.find_all(exp.Table) if t.name in CO_LOCATED}
    links: list[tuple[str, str]] = []
    for eq in tree.find_all(exp.EQ):
        left, right = eq.left, eq.right
        if _is_town(left) and _is_town(right):
            a, b = _owner(left), _owner(right)
            if a and b:
                links.append((a, b))
        elif _is_town(left) and isinstance(right, exp.Column) or _is_town(right) and isinstance(left, exp.Column):
            # A town column of another table (municipalities.id): rows of one town, whichever.
            town, other = (left, right) if _is_town(left) else (right, left)
            if (owner := _owner(town)) and other.table not in tables:
                links.append((owner, f"{other.table}.{other.name}"))
        elif _is_town(left) and _names_a_town(right) or _is_town(right) and _names_a_town(left):
            owner = _owner(left if _is_town(left) else right)
            if owner:
                links.append((owner, _NAMED))
    for found in tree.find_all(exp.In):
        if _is_town(found.this) and all(_names_a_town(e) for e in found.expressions) and (owner := _owner(found.this)):
            links.append((owner, _NAMED))
    for any_ in tree.find_all(exp.Any):
        eq = any_.parent
        if isinstance(eq, exp.EQ) and _is_town(eq.left) and _names_a_town(any_.this) and (owner := _owner(eq.left)):
            links.append((owner, _NAMED))
    insert = tree if isinstance(tree, exp.Insert) else None
    if insert is not None and isinstance(insert.this, exp.Schema) \
            and any(getattr(c, "name", None) == _TOWN for c in insert.this.expressions):
        links.append((insert.this.this.alias_or_name, _NAMED))

    def reach(start: str) -> set[str]:
        seen, todo = {start}, [start]
        while todo:
            here = todo.pop()
            for a, b in links:
                for x, y in ((a, b), (b, a)):
                    if x == here and y not in seen:
                        seen.add(y)
                        todo.append(y)
        return seen

    named = reach(_NAMED)
    label = {alias: f"{alias} ({table})" for alias, table in tables.items()}
    unrouted = frozenset(label[a] for a in tables if a not in named)
    unjoined = frozenset(label[a] for a in tables if len(tables) > 1 and a not in named
                         and not set(tables) <= reach(a))
    return Towns(frozenset(label.values()), unjoined, unrouted)
