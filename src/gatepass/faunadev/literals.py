"""The ``@``-tagged literals of the wire format: ``@ref``, ``@ts``, ``@date``, ``@bytes``, ``@obj``, ``@set`` and
``@query``, as requests may carry them (answers use the same tags, written by ``values.encode``).

Engine rules kept: a ref literal names its collection by a nested ``@ref`` (or, in the legacy form, a path such as
``collections/users/123``, whose collection must exist); ``@bytes`` is url-safe base64, padding optional; an
``@obj`` body is evaluated as an object is; ``@set`` must evaluate to a set; ``@query`` is a lambda.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from gatepass.faunadev.control import lambda_params
from gatepass.faunadev.errors import FaunaError, invalid_argument
from gatepass.faunadev.forms import Env, Evaluation, Pos
from gatepass.faunadev.records import collection_ref_for, numeric_id
from gatepass.faunadev.times import make_time, read_date, read_time
from gatepass.faunadev.values import Bytes, Date, Lambda, Ref, SetRef

_REF_KEYS = {"id", "collection", "class", "database"}


def literal(ev: Evaluation, tag: str, body: Any, env: Env, pos: Pos) -> Any:
    """The value of ``{tag: body}``, or ``invalid expression``."""
    if tag == "@ref":
        return ref_literal(ev, body, pos)
    if tag == "@ts":
        if not isinstance(body, str):
            raise FaunaError("invalid expression", "Invalid time.", pos)
        nanos = read_time(body)  # None, not the parser's error, which quotes the text (see ``times``)
        if nanos is None:
            raise invalid_argument(pos, f"Cannot cast '{body[:64]}' to a time.")
        return make_time(nanos, pos)
    if tag == "@date":
        day = read_date(body)
        if day is None:
            raise FaunaError("invalid expression", "Invalid date.", pos)
        return Date(day)
    if tag == "@bytes":
        return _bytes(body, pos)
    if tag == "@obj":
        if not isinstance(body, dict):
            raise FaunaError("invalid expression", "Invalid object.", pos)
        return {k: ev.eval(v, env, [*pos, "@obj", k]) for k, v in body.items()}
    if tag == "@set":
        value = ev.eval(body, env, [*pos, "@set"]) if isinstance(body, dict) else None
        if not isinstance(value, SetRef):
            raise FaunaError("invalid expression", "Invalid set.", pos)
        return value
    if tag == "@query":
        if not isinstance(body, dict) or set(body) != {"lambda", "expr"}:
            raise FaunaError("invalid expression", "Invalid lambda.", pos)
        return Lambda(lambda_params(body["lambda"], [*pos, "@query", "lambda"]), body["expr"])
    raise FaunaError("invalid expression", "No form/function found, or invalid argument keys: { @ }.", pos)


def ref_literal(ev: Evaluation, body: Any, pos: Pos) -> Ref:
    """The ref an ``@ref`` body names: ``{"id", "collection"}``, or a legacy path (``collections/users/123``)."""
    if isinstance(body, str):
        parts = body.split("/")
        if len(parts) == 3 and parts[0] in ("collections", "classes"):
            return Ref(numeric_id(parts[2], pos), collection_ref_for(ev, parts[1], pos))
        if len(parts) == 2 and parts[0] in ("collections", "classes"):
            return collection_ref_for(ev, parts[1], pos)
        if len(parts) == 1 and body:
            return Ref(body)
        raise FaunaError("invalid expression", "Invalid ref.", pos)
    if not isinstance(body, dict) or not isinstance(body.get("id"), str) or not set(body) <= _REF_KEYS:
        raise FaunaError("invalid expression", "Invalid ref.", pos)
    collection = body.get("collection", body.get("class"))
    if collection is None:
        return Ref(body["id"])
    if not isinstance(collection, dict) or set(collection) != {"@ref"}:
        raise FaunaError("invalid expression", "Invalid ref.", pos)
    return Ref(body["id"], ref_literal(ev, collection["@ref"], pos))


def _bytes(body: Any, pos: Pos) -> Bytes:
    if not isinstance(body, str):
        raise FaunaError("invalid expression", "Invalid bytes.", pos)
    try:
        return Bytes(base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True))
    except (binascii.Error, ValueError) as exc:  # the decoder's messages name the fault, never the text
        raise FaunaError("invalid expression", "Invalid bytes.", pos) from exc
