"""Layer files: tools that write SPEC layer files into a folder, for ``layers load`` to load.

From OpenStreetMap (``osm``: streets, civics, landmarks, the boundary) and synthetic
utilities (``synth``: lamps, circuits, cabinets, water network, crew areas and crews) for
towns whose own utility layers are not public. They write files and load nothing.
"""
