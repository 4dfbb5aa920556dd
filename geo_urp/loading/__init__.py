"""Loading: a municipality's layer files into PostGIS, all or nothing, with the topology built from them.

Validation (``validate``, ``readers``), writing (``write_layers``, ``write_water``), the
water network's graph (``water_topology``, ``water_trace``) and lighting hierarchy, and
``layer_cache``: facts derived from one load, kept until the next. Imports nothing above it.
"""
