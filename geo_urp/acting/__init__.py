"""Acting: what changes the world, each in one transaction.

Taking a call (``intake``: the key check, idempotency, the town's lock, storing the
report; ``calls.take_call``: the report and its incident together), reloading a town's
layers under its open calls (``layers``), and the background ``worker``. Work orders
(status steps of an incident), closing messages to callers (riscontri) and their outbox
belong here too, with their jobs in the worker.
"""
