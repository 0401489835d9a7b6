"""How results look to people: terminal tables, Indonesian words, the sheets that explain.

Machine formats carry the library's frames unchanged; these modules build only what people read,
so the statistics stay free of presentation.
"""
