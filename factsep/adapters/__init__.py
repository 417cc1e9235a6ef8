"""factsep inside the frameworks its users already run: datatrove, Dolma and spaCy.

Each adapter is a thin layer over the library (the detector, the span record, the value hash, the
count and tag functions), importable only where its framework is installed:

- :mod:`factsep.adapters.datatrove`: pipeline steps that tag, count across ranks, apply and filter;
- :mod:`factsep.adapters.dolma`: the ``factsep`` tagger for ``dolma tag`` (attribute files the mixer
  masks or drops by);
- :mod:`factsep.adapters.spacy`: the ``factsep`` pipeline component (``nlp.add_pipe("factsep")``).

Nothing here is imported by ``import factsep``: this package imports no framework itself.
See docs/adapters.md.
"""
