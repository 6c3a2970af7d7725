"""Persistence: one contract (``contract``), two backends (``sqlite``, ``postgres``), opened by URL (``opening``;
the URL rules and redaction in ``url``)."""
