"""Documents a service hands out (PDFs): the parts every such document shares, with no
domain words.

- ``formats``: the languages documents are printed in, and money, numbers, quantities,
  percentages, dates and times written the way each language writes them.
- ``labels``: a catalogue of a document's words per language (plain dictionaries).
- ``settings``: the issuer's letterhead (name, address, registration details, bank),
  the default language, the time zone and the font, from ``GARAGE_*`` settings.
- ``schemas``: ``?lang=`` of an endpoint that answers a document.
- ``pdf``: the page (fpdf2, the kit's ``documents`` extra): letterhead block, facts,
  address blocks, tables, totals, footer, core-font text encoding.

``formats``, ``labels`` and ``settings`` import without fpdf2; only ``pdf`` needs it.
"""
