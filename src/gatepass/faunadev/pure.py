"""Pure FQL forms: logic and comparison, type predicates, arithmetic, strings, objects and arrays.

Semantics follow the engine (``fauna/faunadb``, ``ast/functions``): integers are 64-bit longs whose arithmetic
wraps, integer division and modulo truncate toward zero as on the JVM, ``Equals`` compares types as well as
values (``1`` is not ``1.0`` nor ``true``), times are instants Fauna can represent. Bulk forms charge the query's
budget for the elements they touch.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable
from typing import Any

from gatepass.faunadev import records
from gatepass.faunadev.errors import FaunaError, invalid_argument
from gatepass.faunadev.forms import Env, Evaluation, Handler, Pos, form, type_name
from gatepass.faunadev.limits import value_problem, wrap64
from gatepass.faunadev.sets import sort_key
from gatepass.faunadev.values import Date, Ref, SetRef, Time, encode


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


# objects and arrays ----------------------------------------------------------------------------------------------
def _path(ev: Evaluation, value: Any, pos: Pos) -> list[Any]:
    path = value if isinstance(value, list) else [value]
    for step in path:
        if isinstance(step, bool) or not isinstance(step, (int, str)):
            raise invalid_argument(pos, f"Integer or String expected, {type_name(step)} provided.")
    ev.budget.charge(len(path) // 16)
    return path


def select_path(value: Any, path: list[Any]) -> tuple[bool, Any]:
    """``(found, value)`` at ``path`` in a value (objects by key, arrays by index, refs' id and collection)."""
    current = value
    for step in path:
        if isinstance(current, dict) and isinstance(step, str) and step in current:
            current = current[step]
        elif isinstance(current, list) and isinstance(step, int) and 0 <= step < len(current):
            current = current[step]
        elif isinstance(current, Ref) and step == "id":
            current = current.id
        elif isinstance(current, Ref) and step == "collection" and current.collection is not None:
            current = current.collection
        else:
            return False, None
    return True, current


@form("select", "default", required=("from",))
def _select(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    path = _path(ev, ev.arg(expr, "select", env, pos), [*pos, "select"])
    found, value = select_path(ev.arg(expr, "from", env, pos), path)
    if found:
        return value
    if "default" in expr:
        return ev.arg(expr, "default", env, pos)
    shown = ",".join(str(step)[:64] for step in path[:32])
    raise FaunaError("value not found", f"Value not found at path [{shown}].", [*pos, "from"])


@form("select_all", required=("from",))
def _select_all(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    path = _path(ev, ev.arg(expr, "select_all", env, pos), [*pos, "select_all"])
    source = ev.arg(expr, "from", env, pos)
    items = source if isinstance(source, list) else [source]
    ev.budget.charge(len(items) // 16)
    return [v for ok, v in (select_path(item, path) for item in items) if ok]


@form("contains_path", required=("in",))
def _contains_path(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    path = _path(ev, ev.arg(expr, "contains_path", env, pos), [*pos, "contains_path"])
    return select_path(ev.arg(expr, "in", env, pos), path)[0]


@form("contains_field", required=("in",))
def _contains_field(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    field = ev.string(ev.arg(expr, "contains_field", env, pos), [*pos, "contains_field"])
    value = ev.arg(expr, "in", env, pos)
    return isinstance(value, dict) and field in value


@form("contains_value", required=("in",))
def _contains_value(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    wanted = ev.arg(expr, "contains_value", env, pos)
    value = ev.arg(expr, "in", env, pos)
    items = list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else []
    return any(values_equal(ev, item, wanted) for item in items)


@form("merge", required=("with",))
def _merge(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    result = dict(ev.object(ev.arg(expr, "merge", env, pos), [*pos, "merge"]))
    others = ev.arg(expr, "with", env, pos)
    for other in others if isinstance(others, list) else [others]:
        ev.budget.charge(1 + len(result) // 16)
        for key, value in ev.object(other, [*pos, "with"]).items():
            if value is None:
                result.pop(key, None)
            else:
                result[key] = value
    return result


def _rebuilt(page: dict[str, Any] | None, items: list[Any]) -> Any:
    return {**page, "data": items} if page is not None else items


@form("map", required=("collection",))
def _map(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    fn = ev.arg(expr, "map", env, pos)
    items, page = ev.collection_items(ev.arg(expr, "collection", env, pos), [*pos, "collection"])
    return _rebuilt(page, [ev.apply(fn, [item], [*pos, "map"]) for item in items])


@form("foreach", required=("collection",))
def _foreach(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    fn = ev.arg(expr, "foreach", env, pos)
    source = ev.arg(expr, "collection", env, pos)
    items, _ = ev.collection_items(source, [*pos, "collection"])
    for item in items:
        ev.apply(fn, [item], [*pos, "foreach"])
    return source


@form("filter", required=("collection",))
def _filter(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    fn = ev.arg(expr, "filter", env, pos)
    items, page = ev.collection_items(ev.arg(expr, "collection", env, pos), [*pos, "collection"])
    kept = [item for item in items if ev.boolean(ev.apply(fn, [item], [*pos, "filter"]), [*pos, "filter"])]
    return _rebuilt(page, kept)


def _sized(ev: Evaluation, value: Any, pos: Pos) -> int:
    if isinstance(value, (SetRef, Ref)):
        return len(records.set_entries(ev, value, pos))
    items, _ = ev.collection_items(value, pos)
    return len(items)


@form("count")
def _count(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return _sized(ev, ev.arg(expr, "count", env, pos), [*pos, "count"])


@form("is_empty")
def _is_empty(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return _sized(ev, ev.arg(expr, "is_empty", env, pos), [*pos, "is_empty"]) == 0


@form("is_nonempty")
def _is_nonempty(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return _sized(ev, ev.arg(expr, "is_nonempty", env, pos), [*pos, "is_nonempty"]) > 0


@form("append", required=("collection",))
def _append(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    items = ev.array(ev.arg(expr, "append", env, pos), [*pos, "append"])
    return ev.array(ev.arg(expr, "collection", env, pos), [*pos, "collection"]) + items


@form("prepend", required=("collection",))
def _prepend(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    items = ev.array(ev.arg(expr, "prepend", env, pos), [*pos, "prepend"])
    return items + ev.array(ev.arg(expr, "collection", env, pos), [*pos, "collection"])


@form("take", required=("collection",))
def _take(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    count = max(0, ev.integer(ev.arg(expr, "take", env, pos), [*pos, "take"]))
    items, page = ev.collection_items(ev.arg(expr, "collection", env, pos), [*pos, "collection"])
    return _rebuilt(page, items[:count])


@form("drop", required=("collection",))
def _drop(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    count = max(0, ev.integer(ev.arg(expr, "drop", env, pos), [*pos, "drop"]))
    items, page = ev.collection_items(ev.arg(expr, "collection", env, pos), [*pos, "collection"])
    return _rebuilt(page, items[count:])


@form("reverse")
def _reverse(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    items, page = ev.collection_items(ev.arg(expr, "reverse", env, pos), [*pos, "reverse"])
    ev.budget.charge(len(items) // 16)
    return _rebuilt(page, items[::-1])


@form("distinct")
def _distinct(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    items, page = ev.collection_items(ev.arg(expr, "distinct", env, pos), [*pos, "distinct"])
    comparable(ev, items, [*pos, "distinct"])
    seen: set[str] = set()
    unique: list[Any] = []
    for item in items:
        # the wire form tells types apart (1, 1.0, true) and sorted keys make objects compare as FQL's do
        key = json.dumps(encode(item), sort_keys=True)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return _rebuilt(page, unique)
