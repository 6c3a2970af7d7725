"""Pure FQL forms on scalars: logic and comparison, type predicates, arithmetic, strings (objects and arrays are
in ``arrays``).

Semantics follow the engine (``fauna/faunadb``, ``ast/functions``): integers are 64-bit longs whose arithmetic
wraps, integer division and modulo truncate toward zero as on the JVM, ``Equals`` compares types as well as
values (``1`` is not ``1.0`` nor ``true``). Bulk forms charge the query's budget for the elements they touch.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

from gatepass.faunadev.errors import invalid_argument
from gatepass.faunadev.forms import Env, Evaluation, Handler, Pos, form, type_name
from gatepass.faunadev.limits import value_problem, wrap64
from gatepass.faunadev.sets import sort_key
from gatepass.faunadev.values import Date, Ref, SetRef, Time


def values_equal(ev: Evaluation, a: Any, b: Any) -> bool:
    """FQL equality: same type and same value, all the way down."""
    ev.budget.charge()
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(values_equal(ev, x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(values_equal(ev, v, b[k]) for k, v in a.items())
    if isinstance(a, SetRef):
        return values_equal(ev, a.spec, b.spec)
    return bool(a == b)


def comparable(ev: Evaluation, value: Any, pos: Pos) -> None:
    """Refuse (or pay for) a value before ordering it: ``sort_key`` walks all of it, shared parts included."""
    problem = value_problem(value, ev.budget)
    if problem is not None:
        raise invalid_argument(pos, problem)


def _operands(ev: Evaluation, expr: dict[str, Any], name: str, env: Env, pos: Pos) -> list[Any]:
    value = ev.arg(expr, name, env, pos)
    items = value if isinstance(value, list) else [value]
    ev.budget.charge(len(items) // 16)
    return items


def _non_empty(values: list[Any], pos: Pos) -> list[Any]:
    if not values:
        raise invalid_argument(pos, "Non-empty array expected.")
    return values


# logic and comparison --------------------------------------------------------------------------------------------
@form("equals")
def _equals(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    values = _non_empty(_operands(ev, expr, "equals", env, pos), [*pos, "equals"])
    return all(values_equal(ev, v, values[0]) for v in values[1:])


@form("and")
def _and(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return all([ev.boolean(v, [*pos, "and"]) for v in _operands(ev, expr, "and", env, pos)])


@form("or")
def _or(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return any([ev.boolean(v, [*pos, "or"]) for v in _operands(ev, expr, "or", env, pos)])


@form("not")
def _not(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return not ev.boolean(ev.arg(expr, "not", env, pos), [*pos, "not"])


def _chain(name: str, test: Callable[[Any, Any], bool]) -> Handler:
    """Register ``{name: operands}``: whether ``test`` holds for each operand and the next, in FQL's order."""

    @form(name)
    def handler(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        operands = _non_empty(_operands(ev, expr, name, env, pos), [*pos, name])
        comparable(ev, operands, [*pos, name])
        values = [sort_key(v) for v in operands]
        return all(test(a, b) for a, b in zip(values, values[1:], strict=False))

    return handler


_lt = _chain("lt", operator.lt)
_lte = _chain("lte", operator.le)
_gt = _chain("gt", operator.gt)
_gte = _chain("gte", operator.ge)


def _is(name: str, test: Callable[[Any], bool]) -> Handler:
    """Register ``{name: value}``: whether the value passes ``test`` (a type predicate)."""

    @form(name)
    def handler(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        return test(ev.arg(expr, name, env, pos))

    return handler


_is_number = _is("is_number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))
_is_integer = _is("is_integer", lambda v: isinstance(v, int) and not isinstance(v, bool))
_is_double = _is("is_double", lambda v: isinstance(v, float))
_is_string = _is("is_string", lambda v: isinstance(v, str))
_is_boolean = _is("is_boolean", lambda v: isinstance(v, bool))
_is_null = _is("is_null", lambda v: v is None)
_is_array = _is("is_array", lambda v: isinstance(v, list))
_is_object = _is("is_object", lambda v: isinstance(v, dict))
_is_ref = _is("is_ref", lambda v: isinstance(v, Ref))
_is_timestamp = _is("is_timestamp", lambda v: isinstance(v, Time))
_is_date = _is("is_date", lambda v: isinstance(v, Date))


# arithmetic and strings ---------------------------------------------------------------------------------------------
def long_divide(a: int, b: int) -> int:
    """JVM long division: truncated toward zero."""
    quotient = abs(a) // abs(b)
    return quotient if (a < 0) == (b < 0) else -quotient


def _long_modulo(a: int, b: int) -> int:
    remainder = abs(a) % abs(b)
    return remainder if a >= 0 else -remainder


_LONG_OPS: dict[str, Callable[[int, int], int]] = {
    "add": lambda a, b: a + b,
    "subtract": lambda a, b: a - b,
    "multiply": lambda a, b: a * b,
    "divide": long_divide,
    "modulo": _long_modulo,
}
_DOUBLE_OPS: dict[str, Callable[[float, float], float]] = {
    "add": lambda a, b: a + b,
    "subtract": lambda a, b: a - b,
    "multiply": lambda a, b: a * b,
    "divide": lambda a, b: a / b,
    "modulo": math.fmod,
}


def _combine(op: str, a: int | float, b: int | float) -> int | float:
    if isinstance(a, int) and isinstance(b, int):
        return wrap64(_LONG_OPS[op](a, b))
    return _DOUBLE_OPS[op](float(a), float(b))


def _arith(name: str) -> Handler:
    """Register ``{name: operands}``: the operands folded left to right (64-bit longs, or doubles)."""

    @form(name)
    def handler(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        values = [ev.number(v, [*pos, name]) for v in _operands(ev, expr, name, env, pos)]
        result = _non_empty(values, [*pos, name])[0]
        for value in values[1:]:
            if name in ("max", "min"):
                result = max(result, value) if name == "max" else min(result, value)
                continue
            if name in ("divide", "modulo") and value == 0:
                raise invalid_argument(pos, "Illegal division by zero.")
            result = _combine(name, result, value)
        return result

    return handler


_add = _arith("add")
_subtract = _arith("subtract")
_multiply = _arith("multiply")
_divide = _arith("divide")
_modulo = _arith("modulo")
_max = _arith("max")
_min = _arith("min")


@form("abs")
def _abs(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    value = ev.number(ev.arg(expr, "abs", env, pos), [*pos, "abs"])
    return wrap64(abs(value)) if isinstance(value, int) else abs(value)


@form("concat", "separator")
def _concat(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    parts = [ev.string(v, [*pos, "concat"]) for v in _operands(ev, expr, "concat", env, pos)]
    separator = ev.string(ev.arg(expr, "separator", env, pos), [*pos, "separator"]) if "separator" in expr else ""
    ev.budget.charge((sum(map(len, parts)) + len(separator) * len(parts)) // 16)
    return separator.join(parts)


def _string_form(name: str, op: Callable[[str], Any]) -> Handler:
    """Register ``{name: string}``: ``op`` of the string, paid for by its length."""

    @form(name)
    def handler(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        text = ev.string(ev.arg(expr, name, env, pos), [*pos, name])
        ev.budget.charge(len(text) // 16)
        return op(text)

    return handler


_lowercase = _string_form("lowercase", str.lower)
_uppercase = _string_form("uppercase", str.upper)
_length = _string_form("length", len)


@form("to_string")
def _to_string(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    value = ev.arg(expr, "to_string", env, pos)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Time):
        return value.wire()["@ts"]
    if isinstance(value, (int, float, str)):
        return str(value)
    raise invalid_argument(pos, f"Cannot cast {type_name(value)} to String.")


@form("to_number")
def _to_number(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    value = ev.arg(expr, "to_number", env, pos)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    failure = invalid_argument(pos, f"Cannot cast {type_name(value)} to Number.")
    if not isinstance(value, str) or not value.isascii() or "_" in value or len(value) > 100:
        raise failure
    digits = value.removeprefix("-")
    if digits.isdigit() and int(value) == wrap64(int(value)):
        return int(value)
    try:
        number = float(value)
    except ValueError:
        # refused below, outside this handler: float's error quotes the whole string, which may be a secret (a
        # token's, say), and would stay attached to ours as its context
        number = math.nan
    if not math.isfinite(number):
        raise failure
    return number
