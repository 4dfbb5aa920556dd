"""Reading: what each role may see (SPEC §6), with the privacy rules in one place (``privacy``).

Open311 reads (``open311``), incidents for operators, crews and the council
(``incidents``); the crews' work lists and the council's hotspots and trends belong here
too, and the audit trail as an admin reads it (``audit``). Reads only: nothing here writes.
"""
