"""The table of FQL forms: each form is named by its keys, as the engine looks them up, and every handler has
the same signature (the evaluation, the call's JSON object, the variables in scope, the position).

Handlers see the evaluator only as an ``Evaluation``, the protocol below, which ``evaluator.Evaluator`` satisfies:
so the modules of forms never import the evaluator, and a handler can be imported and called on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from gatepass.faunadev.access import Auth
from gatepass.faunadev.limits import Budget
from gatepass.faunadev.store import Transaction
from gatepass.faunadev.values import Bytes, Date, Lambda, Ref, SetRef, Time

Env = dict[str, Any]
Pos = list[Any]


class Evaluation(Protocol):
    """What a handler may ask of the evaluation running it: the transaction, the caller, the budget, evaluation of
    sub-expressions and lambdas, and the argument checks that answer Fauna's errors."""

    tx: Transaction
    auth: Auth
    unrestricted: bool  # reads and writes without checking the caller's rights
    budget: Budget

    def eval(self, expr: Any, env: Env, pos: Pos) -> Any:
        """The value of an expression."""
        ...

    def arg(self, expr: dict[str, Any], name: str, env: Env, pos: Pos) -> Any:
        """The value of one argument of a call."""
        ...

    def apply(self, fn: Any, args: list[Any], pos: Pos) -> Any:
        """The value of a lambda applied to arguments."""
        ...

    def unchecked(self) -> Evaluation:
        """The same query's evaluation without rights checks (role predicates run so), on the same budget."""
        ...

    def number(self, value: Any, pos: Pos) -> int | float:
        """``value`` if it is a number, else ``invalid argument``."""
        ...

    def integer(self, value: Any, pos: Pos) -> int:
        """``value`` if it is an integer, else ``invalid argument``."""
        ...

    def boolean(self, value: Any, pos: Pos) -> bool:
        """``value`` if it is a boolean, else ``invalid argument``."""
        ...

    def string(self, value: Any, pos: Pos) -> str:
        """``value`` if it is a string, else ``invalid argument``."""
        ...

    def object(self, value: Any, pos: Pos) -> dict[str, Any]:
        """``value`` if it is an object, else ``invalid argument``."""
        ...

    def array(self, value: Any, pos: Pos) -> list[Any]:
        """``value`` if it is an array (paid for by its length), else ``invalid argument``."""
        ...

    def time(self, value: Any, pos: Pos) -> Time:
        """``value`` if it is a Time, else ``invalid argument``."""
        ...

    def collection_items(self, value: Any, pos: Pos) -> tuple[list[Any], dict[str, Any] | None]:
        """An array, or a page's data (and the page, to rebuild it)."""
        ...


Handler = Callable[[Evaluation, dict[str, Any], Env, Pos], Any]


class Form(NamedTuple):
    """One form of the table: the keys a call may have, the keys it must have, and its handler."""

    keys: frozenset[str]
    required: frozenset[str]
    handler: Handler


FORMS: dict[str, Form] = {}


def form(name: str, *optional: str, required: tuple[str, ...] = ()) -> Callable[[Handler], Handler]:
    """Register a handler for the form whose keys are ``name``, the ``required`` keys and any ``optional`` ones."""

    def register(handler: Handler) -> Handler:
        FORMS[name] = Form(frozenset({name, *required, *optional}), frozenset({name, *required}), handler)
        return handler

    return register


_TYPE_NAMES = {Ref: "Ref", SetRef: "Set", Time: "Time", Date: "Date", Bytes: "Bytes", Lambda: "Lambda"}


def type_name(value: Any) -> str:
    """A value's type as Fauna names it in errors ("Integer expected, String provided.")."""
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
    return _TYPE_NAMES.get(type(value), type(value).__name__)
