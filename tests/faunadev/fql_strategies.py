"""Hypothesis strategies for FQL v4 wire JSON: well-formed calls of every form fauna-dev knows (with arguments of
any shape), ``@`` literals, near-misses (a form with a stray key), any JSON scalar (huge integers, non-finite
floats, odd strings), and deep nesting."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from gatepass.faunadev.evaluator import FORMS

NAMES = sorted(FORMS)
COLLECTION = {"@ref": {"id": "users", "collection": {"@ref": {"id": "collections"}}}}
INDEX = {"@ref": {"id": "users_by_email", "collection": {"@ref": {"id": "indexes"}}}}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.integers(),  # beyond 64 bits, too
    st.sampled_from([2**63, -(2**63) - 1, 10**30, 0, -1, 1]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["now", "second", "days", "_", "x", "data", "id", "users", "2024-01-01T00:00:00Z", "1e999"]),
)
literals = st.one_of(
    st.just(COLLECTION),
    st.just(INDEX),
    st.builds(lambda t: {"@ts": t}, st.one_of(st.text(max_size=30), st.integers(), st.just("2024-02-30T00:00:00Z"))),
    st.builds(lambda t: {"@date": t}, st.one_of(st.text(max_size=12), st.just("2024-01-01"))),
    st.builds(lambda t: {"@bytes": t}, st.one_of(st.text(max_size=12), st.integers())),
    st.builds(lambda t: {"@ref": t}, st.one_of(st.text(max_size=24), st.just("collections/users/1"), st.integers())),
    st.builds(lambda t: {"@set": t}, st.one_of(scalars, st.just({"documents": COLLECTION}))),
    st.builds(lambda t: {"@query": t}, st.one_of(scalars, st.just({"lambda": "x", "expr": {"var": "x"}}))),
    st.builds(lambda t: {"@obj": t}, st.one_of(scalars, st.just({"a": 1}))),
)
USERS = {"collection": "users"}
FIRST_USER = {"ref": USERS, "id": "310000000000000001"}  # the first id fauna-dev hands out
useful = st.sampled_from(
    [
        USERS,
        FIRST_USER,
        {"get": FIRST_USER},
        {"index": "users_by_email"},
        {"role": "user"},
        {"documents": USERS},
        {"paginate": {"documents": USERS}},
        {"match": {"index": "users_by_email"}, "terms": "alice@example.com"},
        {"match": {"index": "notes_by_owner"}, "terms": FIRST_USER},
        {"tokens": None},
        {"keys": None},
        {"collections": None},
        {"current_identity": None},
        {"current_token": None},
        {"now": None},
        {"object": {"data": {"object": {"owner": FIRST_USER}}}},
        {"object": {"credentials": {"object": {"password": "pw"}}}},
        {"lambda": "x", "expr": {"var": "x"}},
        {"lambda": ["a", "b"], "expr": {"var": "a"}},
    ]
)
leaves = st.one_of(
    scalars, literals, useful, st.builds(lambda n: {"var": n}, st.sampled_from(["x", "y", "ref", "a", 1, None]))
)


def _call(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    def build(name: str, picks: list[bool], values: list[Any], stray: Any) -> Any:
        keys = sorted(FORMS[name][0] - {name})
        call = {name: values[0]}
        for key, pick, value in zip(keys, picks, values[1:], strict=False):
            if pick:
                call[key] = value
        if stray is not None:
            call[str(stray)] = values[-1]
        return call

    return st.builds(
        build,
        st.sampled_from(NAMES),
        st.lists(st.booleans(), min_size=6, max_size=6),
        st.lists(children, min_size=7, max_size=7),
        st.one_of(st.none(), st.none(), st.none(), st.sampled_from(["in", "x", "lambda", "@obj"])),
    )


def _lambda(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    params = st.one_of(st.sampled_from(["x", "_", ["x", "y"], ["x"], [], [1], 1, None]), scalars)
    return st.builds(lambda p, body: {"lambda": p, "expr": body}, params, children)


def _let(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    bindings = st.one_of(
        st.dictionaries(st.sampled_from(["x", "y", "ref"]), children, max_size=3),
        st.lists(st.one_of(st.dictionaries(st.sampled_from(["x", "y"]), children, max_size=2), children), max_size=3),
        scalars,
    )
    return st.builds(lambda b, body: {"let": b, "in": body}, bindings, children)


expressions = st.recursive(
    leaves,
    lambda children: st.one_of(
        _call(children),
        _call(children),
        _lambda(children),
        _let(children),
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=6), children, max_size=3),
        st.builds(
            lambda o: {"object": o}, st.one_of(st.dictionaries(st.text(max_size=4), children, max_size=3), children)
        ),
    ),
    max_leaves=24,
)


def deep(name: str, depth: int) -> Any:
    """``depth`` nested calls of a one-argument (or array-argument) form."""
    expr: Any = 1
    for _ in range(depth):
        expr = {name: [expr, 1]} if name in ("add", "multiply", "equals", "concat") else {name: expr}
    return expr


nested = st.builds(
    deep, st.sampled_from(["add", "abs", "not", "to_string", "equals", "do", "reverse", "count"]), st.integers(1, 400)
)


def body_of(expr: Any) -> bytes:
    """The request body for an expression (Python's encoder writes NaN and huge integers, as an attacker may)."""
    return json.dumps(expr).encode()


raw_bodies = st.one_of(
    st.binary(max_size=40),
    st.sampled_from(
        [b"", b"{", b"[" * 200, b"1" * 5000, b"1e309", b"NaN", b'{"a":1,"a":2}', b'"\\ud800"', b"-0", b"\xff", b"[]"]
    ),
    st.builds(lambda d: ("[" * d + "]" * d).encode(), st.integers(100, 3000)),
)
