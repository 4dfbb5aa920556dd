"""Reading: what each role may see (SPEC §6), with the privacy rules in one place (``privacy``).

Open311 reads (``open311``) and FixMyStreet's report updates (``open311_updates``),
incidents for operators, crews and the council (``incidents``), the outbox of closing
messages as operators read it (``outbox``) and the audit trail as an admin reads it
(``audit``), a crew's work list (``work_list``); the council's hotspots and trends belong
here too.
Reads only: nothing here writes (the views that show a caller's contact audit the reading).
"""
