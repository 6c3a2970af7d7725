"""Persistence: one contract (``contract``), two backends (``sqlite``, ``postgres``), opened by URL (``url``)."""
