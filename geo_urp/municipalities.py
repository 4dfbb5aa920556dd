"""Which municipality a request, a key or a command is about: the one lookup of a municipality.

Every read and write names its municipality (``jurisdiction_id``, the slug), or is
bound to one (a key or login of one town); a service that answers for one town
only may be asked without naming it. Never guessed when several are loaded.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_urp.errors import BadInput, Forbidden, NotFound, Word
from geo_urp.language import N_
from geo_urp.models import Municipality


def find(session: Session, slug: str) -> Municipality | None:
    """The municipality of ``slug``, or None."""
    return session.scalar(select(Municipality).where(Municipality.slug == slug))


def by_slug(session: Session, slug: str, field: str = "jurisdiction_id", tell_served: bool = True) -> Municipality:
    """The municipality of ``slug``; ``NotFound`` when there is none, naming the slugs served
    when ``tell_served`` (not to a key or login bound to one town: the others are not its business)."""
    muni = find(session, slug)
    if muni is None:
        served = ", ".join(session.scalars(select(Municipality.slug).order_by(Municipality.slug))) if tell_served else ""
        text = (N_("%(field)s %(value)s non è stato trovato; serviti: %(served)s") if tell_served
                else N_("%(field)s %(value)s non è stato trovato"))
        raise NotFound(text, field=field, value=repr(slug), served=served or Word(N_("nessuno")),
                       details=[{"field": field, "value": slug}])
    return muni


def municipality_for(session: Session, jurisdiction_id: str | None, bound_to: int | None = None) -> Municipality:
    """The municipality a request is for: ``jurisdiction_id`` (its slug), else the one the key or
    login is bound to (``bound_to``), else the only one loaded.

    A key or login naming its own town is answered from the session when the town is there
    already (``acting.intake`` reads it with the key): no query.
    """
    if jurisdiction_id and bound_to is not None:
        bound = session.get(Municipality, bound_to)
        if bound is not None and bound.slug == jurisdiction_id:
            return bound
    if jurisdiction_id:
        muni = by_slug(session, jurisdiction_id, tell_served=bound_to is None)
        if bound_to is not None and muni.id != bound_to:
            raise Forbidden(N_("questa chiave o questo accesso non è per jurisdiction_id %(value)s"),
                            value=repr(jurisdiction_id))
        return muni
    if bound_to is not None:
        return session.get(Municipality, bound_to)
    found = list(session.scalars(select(Municipality).order_by(Municipality.slug).limit(50)))
    if len(found) == 1:
        return found[0]
    if not found:
        raise NotFound(N_("nessun comune è ancora caricato"))
    raise BadInput(N_("jurisdiction_id non è stato fornito: questo servizio risponde per %(served)s"),
                   served=", ".join(m.slug for m in found), details=[{"field": "jurisdiction_id"}])


def ids_within(session: Session, bound_to: int | None, jurisdiction_id: str | None) -> list[int]:
    """The municipalities a read covers: the one named (which must be within ``bound_to``, when the
    key or login is bound to one), else the bound one, else every one."""
    if jurisdiction_id:
        mid = by_slug(session, jurisdiction_id, tell_served=bound_to is None).id
        if bound_to not in (None, mid):
            raise Forbidden(N_("questa chiave o questo accesso non è per jurisdiction_id %(value)s"),
                            value=repr(jurisdiction_id))
        return [mid]
    if bound_to is not None:
        return [bound_to]
    return list(session.scalars(select(Municipality.id).order_by(Municipality.id)))


def id_of(session: Session, slug: str | None) -> int | None:
    """The id of ``slug``'s municipality (None for no slug); ``NotFound`` for an unknown one."""
    return None if slug is None else by_slug(session, slug, field="municipality").id
