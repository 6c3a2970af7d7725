"""The FQL v4 evaluator: one JSON expression in, one value out, inside one store transaction.

Forms are looked up by their keys, as the engine does: a JSON object whose keys match a form's argument names is
that call; anything else is an error naming the keys. The ``@`` literals are read by ``literals``; the forms live in
``control`` (variables, lambdas, control flow), ``pure``, ``arrays``, ``times``, ``schema``, ``crud`` and
``identity``, which see the evaluator only through ``forms.Evaluation``; every read and write goes through
``rights.check``.

Every compound expression and every lambda application costs a compute unit and a level of depth from the query's
``Budget`` (``limits``), so a malformed or hostile query ends with Fauna's error, never with a Python one.
"""

from __future__ import annotations

from typing import Any

from gatepass.faunadev import (  # noqa: F401 - registers forms
    arrays,
    control,
    crud,
    identity,
    providers,
    pure,
    schema,
    times,
)
from gatepass.faunadev.access import Auth
from gatepass.faunadev.control import expr_type_error
from gatepass.faunadev.errors import FaunaError, invalid_argument
from gatepass.faunadev.forms import FORMS, Env, Pos, type_name
from gatepass.faunadev.limits import MAX_EVAL_DEPTH, Budget, stack_overflow
from gatepass.faunadev.literals import literal
from gatepass.faunadev.store import Transaction
from gatepass.faunadev.values import Lambda, Time

__all__ = ["FORMS", "Evaluator"]


class Evaluator:
    """Evaluates one query's expressions for one caller, in one transaction, on one budget (a ``forms.Evaluation``)."""

    def __init__(
        self, tx: Transaction, auth: Auth, *, unrestricted: bool = False, budget: Budget | None = None
    ) -> None:
        self.tx = tx
        self.auth = auth
        self.unrestricted = unrestricted or auth.unrestricted
        self.budget = budget if budget is not None else Budget()

    # entry points -------------------------------------------------------------------------------------------------
    def run(self, expr: Any) -> Any:
        """The value of a whole query."""
        return self.eval(expr, {}, [])

    def eval(self, expr: Any, env: Env, pos: Pos) -> Any:
        """The value of an expression at ``pos``, with the variables of ``env`` in scope."""
        if expr is None or isinstance(expr, (bool, int, float, str)):
            return expr
        budget = self.budget
        if budget.depth >= MAX_EVAL_DEPTH:
            raise stack_overflow(MAX_EVAL_DEPTH, pos)
        budget.charge()
        budget.depth += 1
        try:
            if isinstance(expr, list):
                return [self.eval(item, env, [*pos, i]) for i, item in enumerate(expr)]
            if not isinstance(expr, dict):
                raise FaunaError("invalid expression", "Invalid expression.", pos)
            return self._call(expr, env, pos)
        finally:
            budget.depth -= 1

    def _call(self, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        if len(expr) == 1:
            ((key, body),) = expr.items()
            if key.startswith("@"):
                return literal(self, key, body, env, pos)
            if key == "object":
                if not isinstance(body, dict):
                    raise expr_type_error("Object", body, [*pos, "object"])
                return {k: self.eval(v, env, [*pos, "object", k]) for k, v in body.items()}
        keys = frozenset(expr)
        for name in expr:
            spec = FORMS.get(name)
            if spec is not None and spec.required <= keys <= spec.keys:
                return spec.handler(self, expr, env, pos)
        shown = ", ".join(k[:64] for k in list(expr)[:16])  # the keys are the caller's: bound what we echo
        raise FaunaError(
            "invalid expression", "No form/function found, or invalid argument keys: { " + shown + " }.", pos
        )

    def arg(self, expr: dict[str, Any], name: str, env: Env, pos: Pos) -> Any:
        """The value of the argument ``name`` of a call."""
        return self.eval(expr[name], env, [*pos, name])

    def apply(self, fn: Any, args: list[Any], pos: Pos) -> Any:
        """The value of a lambda applied to ``args`` (one level of depth, and a scope paid for by its size)."""
        if not isinstance(fn, Lambda):
            raise invalid_argument(pos, f"Lambda expected, {type_name(fn)} provided.")
        budget = self.budget
        if budget.depth >= MAX_EVAL_DEPTH:
            raise stack_overflow(MAX_EVAL_DEPTH, pos)
        bound = _bind(fn.params, args, pos)
        budget.charge(1 + len(fn.env) // 32)  # the new scope is a copy of the captured one
        budget.depth += 1
        try:
            return self.eval(fn.body, {**fn.env, **bound}, pos)
        finally:
            budget.depth -= 1

    def unchecked(self) -> Evaluator:
        """The same query without rights checks (role predicates read so), on the same budget."""
        return Evaluator(self.tx, self.auth, unrestricted=True, budget=self.budget)

    # argument checks -----------------------------------------------------------------------------------------------
    def number(self, value: Any, pos: Pos) -> int | float:
        """``value`` if it is a number, else ``invalid argument``."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise invalid_argument(pos, f"Number expected, {type_name(value)} provided.")
        return value

    def integer(self, value: Any, pos: Pos) -> int:
        """``value`` if it is an integer, else ``invalid argument``."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid_argument(pos, f"Integer expected, {type_name(value)} provided.")
        return value

    def boolean(self, value: Any, pos: Pos) -> bool:
        """``value`` if it is a boolean, else ``invalid argument``."""
        if not isinstance(value, bool):
            raise invalid_argument(pos, f"Boolean expected, {type_name(value)} provided.")
        return value

    def string(self, value: Any, pos: Pos) -> str:
        """``value`` if it is a string, else ``invalid argument``."""
        if not isinstance(value, str):
            raise invalid_argument(pos, f"String expected, {type_name(value)} provided.")
        return value

    def object(self, value: Any, pos: Pos) -> dict[str, Any]:
        """``value`` if it is an object, else ``invalid argument``."""
        if not isinstance(value, dict):
            raise invalid_argument(pos, f"Object expected, {type_name(value)} provided.")
        return value

    def array(self, value: Any, pos: Pos) -> list[Any]:
        """``value`` if it is an array (paid for by its length), else ``invalid argument``."""
        if not isinstance(value, list):
            raise invalid_argument(pos, f"Array expected, {type_name(value)} provided.")
        self.budget.charge(1 + len(value) // 16)
        return value

    def time(self, value: Any, pos: Pos) -> Time:
        """``value`` if it is a Time, else ``invalid argument``."""
        if not isinstance(value, Time):
            raise invalid_argument(pos, f"Time expected, {type_name(value)} provided.")
        return value

    def collection_items(self, value: Any, pos: Pos) -> tuple[list[Any], dict[str, Any] | None]:
        """An array, or a page's data (and the page, to rebuild it)."""
        if isinstance(value, list):
            return value, None
        if isinstance(value, dict) and isinstance(value.get("data"), list):
            return value["data"], value
        raise invalid_argument(pos, f"Array or Page expected, {type_name(value)} provided.")


def _bind(params: str | list[str], args: list[Any], pos: Pos) -> dict[str, Any]:
    if isinstance(params, str):
        value = args[0] if len(args) == 1 else args
        return {} if params == "_" else {params: value}
    values = args[0] if len(args) == 1 and isinstance(args[0], list) else args
    if len(params) == 1 and len(args) == 1 and not isinstance(args[0], list):
        values = args
    if len(values) < len(params) or (len(args) == 1 and len(values) != len(params)):
        raise invalid_argument(
            pos, f"Lambda expects an array with {len(params)} elements. Array contains {len(values)}."
        )
    return {name: value for name, value in zip(params, values, strict=False) if name != "_"}
