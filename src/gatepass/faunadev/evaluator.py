"""The FQL v4 evaluator: one JSON expression in, one value out, inside one store transaction.

Forms are looked up by their keys, as the engine does: a JSON object whose keys match a form's argument names is
that call; anything else is an error naming the keys. Variables, lambdas, control flow and the ``@`` literals live
here; the other forms in ``pure``, ``times``, ``schema``, ``crud`` and ``identity``, where every read and write goes
through ``rights.check``.

Every compound expression and every lambda application costs a compute unit and a level of depth from the query's
``Budget`` (``limits``), so a malformed or hostile query ends with Fauna's error, never with a Python one.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from gatepass.faunadev import crud, identity, pure, records, schema, times  # noqa: F401 - importing registers forms
from gatepass.faunadev.access import Auth
from gatepass.faunadev.errors import FaunaError, invalid_argument
from gatepass.faunadev.forms import FORMS, Env, Evaluation, Pos, form, type_name
from gatepass.faunadev.limits import MAX_EVAL_DEPTH, Budget, stack_overflow
from gatepass.faunadev.store import Transaction
from gatepass.faunadev.values import Bytes, Date, Lambda, Ref, SetRef, Time, parse_time

_REF_KEYS = {"id", "collection", "class", "database"}
__all__ = ["FORMS", "Evaluator"]


def _expr_type_error(expected: str, value: Any, pos: Pos) -> FaunaError:
    return FaunaError("invalid expression", f"{expected} expected, {type_name(value)} provided.", pos)


def lambda_params(params: Any, pos: Pos) -> str | list[str]:
    """A lambda's parameters as Fauna parses them: a name, or an array of names (``_`` binds nothing)."""
    if isinstance(params, str):
        return params
    if not isinstance(params, list):
        raise _expr_type_error("String or Array", params, pos)
    for i, name in enumerate(params):
        if not isinstance(name, str):
            raise _expr_type_error("String", name, [*pos, i])
    return params


class Evaluator:
    def __init__(
        self, tx: Transaction, auth: Auth, *, unrestricted: bool = False, budget: Budget | None = None
    ) -> None:
        self.tx = tx
        self.auth = auth
        self.unrestricted = unrestricted or auth.unrestricted
        self.budget = budget if budget is not None else Budget()

    # entry points -------------------------------------------------------------------------------------------------
    def run(self, expr: Any) -> Any:
        return self.eval(expr, {}, [])

    def eval(self, expr: Any, env: Env, pos: Pos) -> Any:
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
                return self.literal(key, body, env, pos)
            if key == "object":
                if not isinstance(body, dict):
                    raise _expr_type_error("Object", body, [*pos, "object"])
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

    def literal(self, tag: str, body: Any, env: Env, pos: Pos) -> Any:
        if tag == "@ref":
            return self._ref_literal(body, pos)
        if tag == "@ts":
            if not isinstance(body, str):
                raise FaunaError("invalid expression", "Invalid time.", pos)
            return times.make_time(_parsed_time(body, pos), pos)
        if tag == "@date":
            try:
                return Date(dt.date.fromisoformat(body))
            except (TypeError, ValueError):
                raise FaunaError("invalid expression", "Invalid date.", pos) from None
        if tag == "@bytes":
            if not isinstance(body, str):
                raise FaunaError("invalid expression", "Invalid bytes.", pos)
            try:
                return Bytes(base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True))
            except (binascii.Error, ValueError):
                raise FaunaError("invalid expression", "Invalid bytes.", pos) from None
        if tag == "@obj":
            if not isinstance(body, dict):
                raise FaunaError("invalid expression", "Invalid object.", pos)
            return {k: self.eval(v, env, [*pos, "@obj", k]) for k, v in body.items()}
        if tag == "@set":
            value = self.eval(body, env, [*pos, "@set"]) if isinstance(body, dict) else None
            if not isinstance(value, SetRef):
                raise FaunaError("invalid expression", "Invalid set.", pos)
            return value
        if tag == "@query":
            if not isinstance(body, dict) or set(body) != {"lambda", "expr"}:
                raise FaunaError("invalid expression", "Invalid lambda.", pos)
            return Lambda(lambda_params(body["lambda"], [*pos, "@query", "lambda"]), body["expr"])
        raise FaunaError("invalid expression", "No form/function found, or invalid argument keys: { @ }.", pos)

    def _ref_literal(self, body: Any, pos: Pos) -> Ref:
        if isinstance(body, str):  # legacy "collections/users/123" form
            parts = body.split("/")
            if len(parts) == 3 and parts[0] in ("collections", "classes"):
                return Ref(records.numeric_id(parts[2], pos), records.collection_ref_for(self, parts[1], pos))
            if len(parts) == 2 and parts[0] in ("collections", "classes"):
                return records.collection_ref_for(self, parts[1], pos)
            if len(parts) == 1 and body:
                return Ref(body)
            raise FaunaError("invalid expression", "Invalid ref.", pos)
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("id"), str)
            or not set(body) <= {"id", "collection", "class", "database"}
        ):
            raise FaunaError("invalid expression", "Invalid ref.", pos)
        collection = body.get("collection", body.get("class"))
        if collection is None:
            return Ref(body["id"])
        if not isinstance(collection, dict) or set(collection) != {"@ref"}:
            raise FaunaError("invalid expression", "Invalid ref.", pos)
        return Ref(body["id"], self._ref_literal(collection["@ref"], pos))

    def unchecked(self) -> Evaluator:
        """The same query without rights checks (role predicates read so), on the same budget."""
        return Evaluator(self.tx, self.auth, unrestricted=True, budget=self.budget)

    # helpers ---------------------------------------------------------------------------------------------------------
    def arg(self, expr: dict[str, Any], name: str, env: Env, pos: Pos) -> Any:
        return self.eval(expr[name], env, [*pos, name])

    def apply(self, fn: Any, args: list[Any], pos: Pos) -> Any:
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

    def number(self, value: Any, pos: Pos) -> int | float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise invalid_argument(pos, f"Number expected, {type_name(value)} provided.")
        return value

    def integer(self, value: Any, pos: Pos) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid_argument(pos, f"Integer expected, {type_name(value)} provided.")
        return value

    def boolean(self, value: Any, pos: Pos) -> bool:
        if not isinstance(value, bool):
            raise invalid_argument(pos, f"Boolean expected, {type_name(value)} provided.")
        return value

    def string(self, value: Any, pos: Pos) -> str:
        if not isinstance(value, str):
            raise invalid_argument(pos, f"String expected, {type_name(value)} provided.")
        return value

    def object(self, value: Any, pos: Pos) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise invalid_argument(pos, f"Object expected, {type_name(value)} provided.")
        return value

    def array(self, value: Any, pos: Pos) -> list[Any]:
        if not isinstance(value, list):
            raise invalid_argument(pos, f"Array expected, {type_name(value)} provided.")
        self.budget.charge(1 + len(value) // 16)
        return value

    def time(self, value: Any, pos: Pos) -> Time:
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


def _parsed_time(text: str, pos: Pos) -> int:
    try:
        return parse_time(text)
    except (ValueError, OverflowError):
        raise invalid_argument(pos, f"Cannot cast '{text[:64]}' to a time.") from None


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


# variables, lambdas and control flow --------------------------------------------------------------------------------
def _let_pairs(bindings: Any, pos: Pos) -> list[tuple[str, Any]]:
    if isinstance(bindings, dict):
        return list(bindings.items())
    if not isinstance(bindings, list):
        raise _expr_type_error("Array", bindings, [*pos, "let"])
    pairs = []
    for i, binding in enumerate(bindings):
        if not isinstance(binding, dict) or len(binding) != 1:
            raise _expr_type_error("Object", binding, [*pos, "let", i])
        pairs.append(next(iter(binding.items())))
    return pairs


@form("let", required=("in",))
def _let(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    ev.budget.charge(1 + len(env) // 32)  # the scope is a copy
    scope = dict(env)
    for name, value in _let_pairs(expr["let"], pos):
        scope[name] = ev.eval(value, scope, [*pos, "let", name])
    return ev.eval(expr["in"], scope, [*pos, "in"])


@form("var")
def _var(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    name = expr["var"]
    if not isinstance(name, str):
        raise _expr_type_error("String", name, [*pos, "var"])
    if name not in env:
        raise FaunaError("invalid expression", f"Variable '{name[:64]}' is not defined.", pos)
    return env[name]


@form("lambda", required=("expr",))
def _lambda(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    ev.budget.charge(1 + len(env) // 32)
    params = lambda_params(expr["lambda"], [*pos, "lambda"])
    return Lambda(params, expr["expr"], dict(env))  # closes over the current bindings


@form("query")
def _query(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    value = ev.arg(expr, "query", env, pos)
    if not isinstance(value, Lambda):
        raise invalid_argument([*pos, "query"], f"Lambda expected, {type_name(value)} provided.")
    return value


@form("if", required=("then", "else"))
def _if(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    condition = ev.boolean(ev.arg(expr, "if", env, pos), [*pos, "if"])
    return ev.arg(expr, "then" if condition else "else", env, pos)


@form("do")
def _do(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    body = expr["do"]
    items = body if isinstance(body, list) else [body]
    if not items:
        raise FaunaError("invalid expression", "Expression list cannot be empty.", [*pos, "do"])
    result = None
    for i, item in enumerate(items):
        result = ev.eval(item, env, [*pos, "do", i])
    return result


@form("abort")
def _abort(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    raise FaunaError("transaction aborted", ev.string(ev.arg(expr, "abort", env, pos), [*pos, "abort"]), pos)
