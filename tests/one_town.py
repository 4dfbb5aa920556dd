"""Which towns a statement reaches: read from its SQL (sqlglot's PostgreSQL parser), for the tests
that hold the service to docs/SCALING.md's plan.

On Citus the tables of a town's calls are distributed by ``municipality_id`` and co-located. A
join between two of them is carried out on the workers only when it equates their towns (else
Citus refuses it, or moves rows between workers), and a statement goes to the one worker holding
a town only when every such table in it is tied to a town it names.

``towns_of(sql)`` answers with the co-located tables of ``sql`` and how they are tied. Ties are
the ``municipality_id`` equalities that must hold, each a conjunct of a WHERE, ON or HAVING (one
under OR or NOT need not hold), and ``JOIN ... USING (municipality_id)``: between two tables'
towns, a table's town and a town named (a parameter or value, ``IN`` a list, ``= ANY`` an array,
the value an INSERT writes), or a table's town and another table's column (``municipalities.id``).
A column is the table's its qualifier names in its own query or, correlated, in the nearest
enclosing one; a CTE's or a subquery's town is the town of the table it selects it from.
``joined``: every co-located table is tied, directly or through others, to every other one, or to
the same town named (``unjoined``: those outside the largest group so tied). ``routed``: every
co-located table is tied to a town named.
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
_QUERIES = (exp.Select, exp.Update, exp.Delete, exp.Insert)
_READ = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")
# Every town a statement names counts as the same one: SQLAlchemy binds one value once per use
# (:municipality_id_1, :municipality_id_2), and the service never names two towns to join.
_NAMED = "named"


@dataclass(frozen=True)
class Towns:
    tables: frozenset[str]  # "alias (table)" of every co-located table in the statement
    unjoined: frozenset[str]  # of those, the ones outside the largest group of tables tied together
    unrouted: frozenset[str]  # of those, the ones tied to no town the statement names

    @property
    def joined(self) -> bool:
        return not self.unjoined

    @property
    def routed(self) -> bool:
        return not self.unrouted


_NONE = Towns(frozenset(), frozenset(), frozenset())


class _Reading:
    """One statement's co-located tables (nodes: their expressions' ids) and the ties between them."""

    def __init__(self, tree: exp.Expression):
        self.tree = tree
        self.parent: dict[str, str] = {}
        self.ctes = {cte.alias_or_name: cte.this for cte in tree.find_all(exp.CTE)}

    def node(self, key: str) -> str:
        self.parent.setdefault(key, key)
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def tie(self, a: str | None, b: str | None) -> None:
        if a and b:
            self.parent[self.node(a)] = self.node(b)

    @staticmethod
    def scope(node: exp.Expression) -> exp.Expression | None:
        return node.find_ancestor(*_QUERIES)

    def tables(self, query: exp.Expression | None = None):
        """The tables a statement reads (or, with ``query``, that query reads itself, not in its
        subqueries); a table named by FOR UPDATE OF is a name, not one more table."""
        for table in (query or self.tree).find_all(exp.Table):
            if table.find_ancestor(exp.Lock) is None and (query is None or self.scope(table) is query):
                yield table

    def source(self, name: str, where: exp.Expression, seen: frozenset = frozenset()) -> str | None:
        """The node of the source called ``name`` as seen from ``where``: a table of the nearest
        query holding one by that name, a CTE's or subquery's town through what it selects."""
        query = self.scope(where) if not isinstance(where, _QUERIES) else where
        while query is not None:
            for table in self.tables(query):
                if table.alias_or_name == name:
                    if table.name in self.ctes and not table.args.get("db") and table.name not in seen:
                        return self.selected_town(self.ctes[table.name], seen | {table.name}) or f"cte:{id(table)}"
                    return f"table:{id(table)}"
            for sub in query.find_all(exp.Subquery):
                if sub.alias == name and self.scope(sub) is query and id(sub) not in seen:
                    return self.selected_town(sub.this, seen | {id(sub)}) or f"subquery:{id(sub)}"
            query = self.scope(query)
        return None

    def selected_town(self, query: exp.Expression, seen: frozenset) -> str | None:
        """The node of the town a query selects as ``municipality_id``, when it is a table's."""
        for projection in getattr(query, "expressions", []):
            column = projection.this if isinstance(projection, exp.Alias) else projection
            if projection.alias_or_name == _TOWN and isinstance(column, exp.Column):
                return self.column(column, seen)
        return None

    def column(self, column: exp.Column, seen: frozenset = frozenset()) -> str | None:
        """The node a column belongs to: its qualifier's source, or the one table of its query."""
        if column.table:
            return self.source(column.table, column, seen)
        query = self.scope(column)
        own = list(self.tables(query)) if query else []
        co = [t for t in own if t.name in CO_LOCATED]
        if len(co) == 1:
            return f"table:{id(co[0])}"
        return self.source(own[0].alias_or_name, own[0], seen) if len(own) == 1 else None

    def side(self, node: exp.Expression) -> tuple[str, str | None] | None:
        """What one side of an equality is: ("town", node) for a table's municipality_id,
        ("other", node) for another column, ("named", key) for a parameter or value."""
        while isinstance(node, (exp.Cast, exp.Paren)):
            node = node.this
        if isinstance(node, exp.Column):
            owner = self.column(node)
            return ("town", owner) if node.name == _TOWN else ("other", owner and f"{owner}.{node.name}")
        if not any(True for _ in node.find_all(exp.Column, exp.Select)):
            return "named", _NAMED
        return None

    def equate(self, left: exp.Expression, right: exp.Expression) -> None:
        a, b = self.side(left), self.side(right)
        if a and b and "town" in (a[0], b[0]) and a[1] and b[1]:
            self.tie(a[1], b[1])

    @staticmethod
    def conjuncts(condition: exp.Expression | None):
        """The terms of ``condition`` that must each hold: its AND's, through parentheses."""
        todo = [condition] if condition is not None else []
        while todo:
            part = todo.pop()
            if isinstance(part, exp.And):
                todo += [part.right, part.left]
            elif isinstance(part, (exp.Paren, exp.Where, exp.Having)):
                todo.append(part.this)
            else:
                yield part

    def read(self) -> None:
        conditions = [w.this for w in self.tree.find_all(exp.Where, exp.Having)]
        conditions += [j.args["on"] for j in self.tree.find_all(exp.Join) if j.args.get("on")]
        for condition in conditions:
            for part in self.conjuncts(condition):
                if isinstance(part, exp.EQ):
                    if isinstance(part.right, exp.Any):
                        self.equate(part.left, part.right.this)
                    else:
                        self.equate(part.left, part.right)
                elif isinstance(part, exp.In) and part.expressions:
                    key = _NAMED
                    side = self.side(part.this)
                    if side and side[0] == "town" and all(self.side(e) and self.side(e)[0] == "named"
                                                          for e in part.expressions):
                        self.tie(side[1], key)
        for join in self.tree.find_all(exp.Join):
            using = [u.name for u in join.args.get("using") or []]
            if _TOWN in using and isinstance(join.this, exp.Table):
                query = self.scope(join)
                for earlier in (t for t in self.tables(query) if t is not join.this):
                    self.tie(f"table:{id(join.this)}", f"table:{id(earlier)}")
        insert = self.tree if isinstance(self.tree, exp.Insert) else None
        if insert is not None and isinstance(insert.this, exp.Schema):
            columns = [getattr(c, "name", None) for c in insert.this.expressions]
            if _TOWN in columns:
                self.tie(f"table:{id(insert.this.this)}", self.written(insert.expression, columns.index(_TOWN)))

    def written(self, rows: exp.Expression | None, at: int) -> str:
        """The node of the town an INSERT writes: what its SELECT selects there, a table's town or
        a town named, else the values it was given."""
        if isinstance(rows, exp.Select) and at < len(rows.expressions):
            value = rows.expressions[at]
            side = self.side(value.this if isinstance(value, exp.Alias) else value)
            if side and side[0] in ("town", "named") and side[1]:
                return side[1]
        return _NAMED


@lru_cache(maxsize=4096)
def towns_of(sql: str) -> Towns:
    if (sql.split(None, 1) or [""])[0].upper() not in _READ:
        return _NONE  # savepoints, locks' SET, DDL: no rows of a town
    # psycopg2's parameters (%(name)s) and its escaped % (pg_trgm's operator) as PostgreSQL reads them.
    tree = sqlglot.parse_one(re.sub(r"%\((\w+)\)s", r":\1", sql).replace("%%", "%"), read="postgres")
    reading = _Reading(tree)
    reading.read()
    tables = {f"table:{id(t)}": f"{t.alias_or_name} ({t.name})" for t in reading.tables() if t.name in CO_LOCATED}
    named = {reading.node(_NAMED)}
    groups = {key: reading.node(key) for key in tables}
    unrouted = frozenset(label for key, label in tables.items() if groups[key] not in named)
    # The tables joined together: the largest group, one tied to a town named before one not.
    order = list(dict.fromkeys(groups.values()))  # in the order their first table appears
    main = max(order, key=lambda g: (list(groups.values()).count(g), g in named)) if order else None
    unjoined = frozenset(label for key, label in tables.items() if groups[key] != main)
    return Towns(frozenset(tables.values()), unjoined, unrouted)
