"""``gatepass fauna-dev``: a local server for FQL v4 (the JSON wire protocol of the official ``faunadb`` drivers).

A development server, not a database: one process, one global lock, state in memory with a JSON snapshot on
disk. ``values`` (wire types); ``evaluator`` (the pure FQL evaluator over a ``store`` transaction) with its form
table ``forms`` and the forms in ``pure``, ``times``, ``documents`` (over ``records`` and ``writes``) and
``sets``; ``limits`` (what one query may cost); ``access`` and ``secrets`` (keys, tokens, roles); ``server`` (the
HTTP shell).
"""
