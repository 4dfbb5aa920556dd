"""Acting: what changes the world, each in one transaction.

Taking a call (``intake``: the key check, idempotency, the town's lock, storing the
report; ``calls.take_call``: the report and its incident together), reloading a town's
layers under its open calls (``layers``), work orders (``work_orders``: the status steps
of an incident) with their service levels (``service_levels``), the closing messages to
callers (riscontri: ``closing``, ``messages``) and their delivery (``outbox``, ``senders``),
and the background ``worker`` that runs the delivery.
"""
