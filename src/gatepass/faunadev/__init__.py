"""``gatepass fauna-dev``: a local server for FQL v4 (the JSON wire protocol of the official ``faunadb`` drivers).

A development server, not a database: one process, one global lock, state in memory with a JSON snapshot on
disk. ``values`` (wire types), ``evaluator`` (the pure FQL evaluator over a ``store`` transaction), ``auth``
(secrets, keys, tokens, roles) and ``server`` (the HTTP shell).
"""
