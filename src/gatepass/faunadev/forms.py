"""The table of FQL forms: each form is named by its keys, as the engine looks them up, and every handler has
the same signature (evaluator, the call's JSON object, the variables in scope, the position)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from gatepass.faunadev.evaluator import Evaluator

Env = dict[str, Any]
Pos = list[Any]
Handler = Callable[["Evaluator", dict[str, Any], Env, Pos], Any]


class Form(NamedTuple):
    keys: frozenset[str]  # every key the call may have
    required: frozenset[str]  # the keys it must have
    handler: Handler


FORMS: dict[str, Form] = {}


def form(name: str, *optional: str, required: tuple[str, ...] = ()) -> Callable[[Handler], Handler]:
    """Register a handler for the form whose keys are ``name``, the ``required`` keys and any ``optional`` ones."""

    def register(handler: Handler) -> Handler:
        FORMS[name] = Form(frozenset({name, *required, *optional}), frozenset({name, *required}), handler)
        return handler

    return register


def type_name(value: Any) -> str:
    """A value's type as Fauna names it in errors ("Integer expected, String provided.")."""
    from gatepass.faunadev.values import Bytes, Date, Lambda, Ref, SetRef, Time

    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Double"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "Array"
    if isinstance(value, dict):
        return "Object"
    names = {Ref: "Ref", SetRef: "Set", Time: "Time", Date: "Date", Bytes: "Bytes", Lambda: "Lambda"}
    return names.get(type(value), type(value).__name__)
