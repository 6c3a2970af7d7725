"""``gatepass fauna-dev``: a local server for FQL v4 (the JSON wire protocol of the official ``faunadb`` drivers).

A development server, not a database: one process, one global lock, state in memory with a JSON snapshot on
disk. ``values`` (wire types); ``evaluator`` (the pure FQL evaluator over a ``store`` transaction) with its form
table ``forms``, whose handlers see it only as ``forms.Evaluation``: ``literals`` (the ``@`` tags), ``control``,
``pure``, ``arrays``, ``times``, ``schema``, ``crud``, ``identity`` and ``providers`` (access providers), over
``records`` (refs, records, set members), ``rights`` (roles and checks) and ``sets`` (order and pages); ``limits``
(what one query may cost); ``access`` and ``secrets`` (keys, tokens); ``jwt``, ``jwks`` and ``jwtauth`` (access
providers' JWTs, their keys, and the login with them); ``server`` (the HTTP shell, the only module that imports
the evaluator).
"""
