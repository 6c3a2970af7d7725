"""The FQL v4 evaluator: one JSON expression in, one value out, inside one store transaction.

Forms are looked up by their keys, as the engine does: a JSON object whose keys match a form's argument names is
that call; anything else is an error naming the keys. Pure forms (logic, arithmetic, time, collections) live here;
document, schema and authentication forms in ``documents``; every read and write goes through ``check`` for the
caller's rights.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from typing import Any

from gatepass.faunadev import documents
from gatepass.faunadev.access import Auth
from gatepass.faunadev.errors import FaunaError, invalid_argument
from gatepass.faunadev.store import Transaction
from gatepass.faunadev.values import Bytes, Date, Lambda, Ref, SetRef, Time, parse_time

Env = dict[str, Any]
Pos = list[Any]
Handler = Callable[["Evaluator", dict[str, Any], Env, Pos], Any]

UNITS_NS = {
    "day": 86_400_000_000_000,
    "half day": 43_200_000_000_000,
    "hour": 3_600_000_000_000,
    "minute": 60_000_000_000,
    "second": 1_000_000_000,
    "millisecond": 1_000_000,
    "microsecond": 1_000,
    "nanosecond": 1,
}

FORMS: dict[str, tuple[frozenset[str], Handler]] = {}


def form(name: str, *optional: str, required: tuple[str, ...] = ()) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        FORMS[name] = (frozenset({name, *required, *optional}), handler)
        return handler

    return register


def type_name(value: Any) -> str:
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
    return type(value).__name__


class Evaluator:
    def __init__(self, tx: Transaction, auth: Auth, *, unrestricted: bool = False) -> None:
        self.tx = tx
        self.auth = auth
        self.unrestricted = unrestricted or auth.unrestricted

    # entry points -------------------------------------------------------------------------------------------------
    def run(self, expr: Any) -> Any:
        return self.eval(expr, {}, [])

    def eval(self, expr: Any, env: Env, pos: Pos) -> Any:
        if expr is None or isinstance(expr, (bool, int, float, str)):
            return expr
        if isinstance(expr, list):
            return [self.eval(item, env, [*pos, i]) for i, item in enumerate(expr)]
        if not isinstance(expr, dict):
            raise FaunaError("invalid expression", "Invalid expression.", pos)
        if len(expr) == 1:
            ((key, body),) = expr.items()
            if key.startswith("@"):
                return self.literal(key, body, env, pos)
            if key == "object":
                if not isinstance(body, dict):
                    raise FaunaError("invalid expression", "Object expected.", pos)
                return {k: self.eval(v, env, [*pos, "object", k]) for k, v in body.items()}
        keys = frozenset(expr)
        for name in expr:
            spec = FORMS.get(name)
            if spec is not None and keys <= spec[0]:
                return spec[1](self, expr, env, pos)
        raise FaunaError(
            "invalid expression", "No form/function found, or invalid argument keys: { " + ", ".join(expr) + " }.", pos
        )

    def literal(self, tag: str, body: Any, env: Env, pos: Pos) -> Any:
        if tag == "@ref":
            if isinstance(body, str):  # legacy "collections/users/123" form
                parts = body.split("/")
                if len(parts) == 3:
                    return Ref(parts[2], documents.collection_ref_for(self, parts[1], pos))
                if len(parts) == 2 and parts[0] in ("collections", "classes"):
                    return documents.collection_ref_for(self, parts[1], pos)
                return Ref(body)
            if not isinstance(body, dict) or not isinstance(body.get("id"), str):
                raise FaunaError("invalid expression", "Invalid @ref literal.", pos)
            collection = body.get("collection") or body.get("class")
            parent = self.literal("@ref", collection["@ref"], env, pos) if isinstance(collection, dict) else None
            return Ref(body["id"], parent)
        if tag == "@ts":
            try:
                return Time(parse_time(body))
            except (TypeError, ValueError):
                raise invalid_argument(pos, "Cannot cast String to Time.") from None
        if tag == "@date":
            try:
                return Date(dt.date.fromisoformat(body))
            except (TypeError, ValueError):
                raise invalid_argument(pos, "Cannot cast String to Date.") from None
        if tag == "@bytes":
            return Bytes(base64.urlsafe_b64decode(str(body) + "=" * (-len(str(body)) % 4)))
        if tag == "@obj":
            return {k: self.eval(v, env, [*pos, k]) for k, v in body.items()}
        if tag == "@set":
            return SetRef({k: self.eval(v, env, [*pos, k]) for k, v in body.items()})
        if tag == "@query":
            return Lambda(body["lambda"], body["expr"])
        raise FaunaError("invalid expression", f"Unknown literal {tag}.", pos)

    # helpers ---------------------------------------------------------------------------------------------------------
    def arg(self, expr: dict[str, Any], name: str, env: Env, pos: Pos) -> Any:
        return self.eval(expr[name], env, [*pos, name])

    def apply(self, fn: Any, args: list[Any], pos: Pos) -> Any:
        if not isinstance(fn, Lambda):
            raise invalid_argument(pos, f"Lambda expected, {type_name(fn)} provided.")
        bound: dict[str, Any]
        if isinstance(fn.params, str):
            bound = {fn.params: args[0] if len(args) == 1 else args}
        else:
            values = args[0] if len(args) == 1 and isinstance(args[0], list) else args
            if len(values) < len(fn.params):
                raise invalid_argument(pos, f"Lambda expects an array with {len(fn.params)} elements.")
            bound = dict(zip(fn.params, values, strict=False))
        return self.eval(fn.body, {**fn.env, **bound}, pos)

    def number(self, value: Any, pos: Pos) -> int | float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise invalid_argument(pos, f"Number expected, {type_name(value)} provided.")
        return value

    def boolean(self, value: Any, pos: Pos) -> bool:
        if not isinstance(value, bool):
            raise invalid_argument(pos, f"Boolean expected, {type_name(value)} provided.")
        return value

    def string(self, value: Any, pos: Pos) -> str:
        if not isinstance(value, str):
            raise invalid_argument(pos, f"String expected, {type_name(value)} provided.")
        return value

    def time(self, value: Any, pos: Pos) -> Time:
        if not isinstance(value, Time):
            raise invalid_argument(pos, f"Time expected, {type_name(value)} provided.")
        return value

    def unit_ns(self, unit: Any, pos: Pos) -> int:
        name = self.string(unit, pos).lower().rstrip("s") if unit not in ("half days",) else "half day"
        if name not in UNITS_NS:
            raise invalid_argument(pos, f"Invalid time unit '{unit}'.")
        return UNITS_NS[name]

    def collection_items(self, value: Any, pos: Pos) -> tuple[list[Any], dict[str, Any] | None]:
        """An array, or a page's data (and the page, to rebuild it)."""
        if isinstance(value, list):
            return value, None
        if isinstance(value, dict) and isinstance(value.get("data"), list):
            return value["data"], value
        raise invalid_argument(pos, f"Array or Page expected, {type_name(value)} provided.")


# variables, lambdas and control flow --------------------------------------------------------------------------------
@form("let", required=("in",))
def _let(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    scope = dict(env)
    bindings = expr["let"]
    pairs = [next(iter(b.items())) for b in bindings] if isinstance(bindings, list) else list(bindings.items())
    for name, value in pairs:
        scope[name] = ev.eval(value, scope, [*pos, "let", name])
    return ev.eval(expr["in"], scope, [*pos, "in"])


@form("var")
def _var(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    name = expr["var"]
    if name not in env:
        raise FaunaError("invalid expression", f"Variable '{name}' is not defined.", pos)
    return env[name]


@form("lambda", required=("expr",))
def _lambda(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return Lambda(expr["lambda"], expr["expr"], dict(env))  # closes over the current bindings


@form("query")
def _query(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    value = ev.arg(expr, "query", env, pos)
    if not isinstance(value, Lambda):
        raise invalid_argument(pos, "Lambda expected.")
    return value


@form("if", required=("then", "else"))
def _if(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    condition = ev.boolean(ev.arg(expr, "if", env, pos), [*pos, "if"])
    return ev.arg(expr, "then" if condition else "else", env, pos)


@form("do")
def _do(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    body = expr["do"]
    result = None
    for i, item in enumerate(body if isinstance(body, list) else [body]):
        result = ev.eval(item, env, [*pos, "do", i])
    return result


@form("abort")
def _abort(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    raise FaunaError("transaction aborted", ev.string(ev.arg(expr, "abort", env, pos), pos), pos)


# logic and comparison --------------------------------------------------------------------------------------------
def _operands(ev: Evaluator, expr: dict[str, Any], name: str, env: Env, pos: Pos) -> list[Any]:
    value = ev.arg(expr, name, env, pos)
    return value if isinstance(value, list) else [value]


@form("equals")
def _equals(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    values = _operands(ev, expr, "equals", env, pos)
    return all(v == values[0] and type(v) is type(values[0]) or v == values[0] for v in values[1:])


@form("and")
def _and(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return all(ev.boolean(v, pos) for v in _operands(ev, expr, "and", env, pos))


@form("or")
def _or(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return any(ev.boolean(v, pos) for v in _operands(ev, expr, "or", env, pos))


@form("not")
def _not(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return not ev.boolean(ev.arg(expr, "not", env, pos), pos)


def _chain(name: str, test: Callable[[Any, Any], bool]) -> None:
    def handler(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        from gatepass.faunadev.sets import sort_key

        values = [sort_key(v) for v in _operands(ev, expr, name, env, pos)]
        return all(test(a, b) for a, b in zip(values, values[1:], strict=False))

    form(name)(handler)


_chain("lt", lambda a, b: a < b)
_chain("lte", lambda a, b: a <= b)
_chain("gt", lambda a, b: a > b)
_chain("gte", lambda a, b: a >= b)


# arithmetic and strings ---------------------------------------------------------------------------------------------
def _arith(name: str, op: Callable[[Any, Any], Any]) -> None:
    def handler(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        values = [ev.number(v, pos) for v in _operands(ev, expr, name, env, pos)]
        if not values:
            raise invalid_argument(pos, "Non-empty array expected.")
        result = values[0]
        for value in values[1:]:
            if name in ("divide", "modulo") and value == 0:
                raise invalid_argument(pos, "Illegal division by zero.")
            result = op(result, value)
        return result

    form(name)(handler)


_arith("add", lambda a, b: a + b)
_arith("subtract", lambda a, b: a - b)
_arith("multiply", lambda a, b: a * b)
_arith("divide", lambda a, b: a // b if isinstance(a, int) and isinstance(b, int) else a / b)
_arith("modulo", lambda a, b: a % b)
_arith("max", max)
_arith("min", min)


@form("abs")
def _abs(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return abs(ev.number(ev.arg(expr, "abs", env, pos), pos))


@form("concat", "separator")
def _concat(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    parts = [ev.string(v, pos) for v in _operands(ev, expr, "concat", env, pos)]
    separator = ev.string(ev.arg(expr, "separator", env, pos), pos) if "separator" in expr else ""
    return separator.join(parts)


@form("lowercase")
def _lowercase(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return ev.string(ev.arg(expr, "lowercase", env, pos), pos).lower()


@form("uppercase")
def _uppercase(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return ev.string(ev.arg(expr, "uppercase", env, pos), pos).upper()


@form("length")
def _length(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return len(ev.string(ev.arg(expr, "length", env, pos), pos))


@form("to_string")
def _to_string(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    value = ev.arg(expr, "to_string", env, pos)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Time):
        return value.wire()["@ts"]
    if isinstance(value, (int, float, str)):
        return str(value)
    raise invalid_argument(pos, f"Cannot cast {type_name(value)} to String.")


@form("to_number")
def _to_number(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    value = ev.arg(expr, "to_number", env, pos)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    try:
        return int(value) if str(value).lstrip("-").isdigit() else float(value)
    except (TypeError, ValueError):
        raise invalid_argument(pos, f"Cannot cast {type_name(value)} to Number.") from None


# objects and arrays ----------------------------------------------------------------------------------------------
def _path(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def select_path(value: Any, path: list[Any]) -> tuple[bool, Any]:
    current = value
    for step in path:
        if isinstance(current, dict) and isinstance(step, str) and step in current:
            current = current[step]
        elif (
            isinstance(current, list)
            and isinstance(step, int)
            and not isinstance(step, bool)
            and 0 <= step < len(current)
        ):
            current = current[step]
        elif isinstance(current, Ref) and step == "id":
            current = current.id
        elif isinstance(current, Ref) and step == "collection" and current.collection is not None:
            current = current.collection
        else:
            return False, None
    return True, current


@form("select", "default", required=("from",))
def _select(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    path = _path(ev.arg(expr, "select", env, pos))
    found, value = select_path(ev.arg(expr, "from", env, pos), path)
    if found:
        return value
    if "default" in expr:
        return ev.arg(expr, "default", env, pos)
    raise FaunaError("value not found", f"Value not found at path {path}.", [*pos, "from"])


@form("select_all", required=("from",))
def _select_all(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    path = _path(ev.arg(expr, "select_all", env, pos))
    source = ev.arg(expr, "from", env, pos)
    items = source if isinstance(source, list) else [source]
    return [v for ok, v in (select_path(item, path) for item in items) if ok]


@form("contains_path", required=("in",))
def _contains_path(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return select_path(ev.arg(expr, "in", env, pos), _path(ev.arg(expr, "contains_path", env, pos)))[0]


@form("contains_field", required=("in",))
def _contains_field(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    value = ev.arg(expr, "in", env, pos)
    return isinstance(value, dict) and ev.arg(expr, "contains_field", env, pos) in value


@form("contains_value", required=("in",))
def _contains_value(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    value = ev.arg(expr, "in", env, pos)
    wanted = ev.arg(expr, "contains_value", env, pos)
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return wanted in list(items)


@form("merge", required=("with",))
def _merge(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    base = ev.arg(expr, "merge", env, pos)
    others = ev.arg(expr, "with", env, pos)
    result = dict(base) if isinstance(base, dict) else {}
    for other in others if isinstance(others, list) else [others]:
        for key, value in (other or {}).items():
            if value is None:
                result.pop(key, None)
            else:
                result[key] = value
    return result


@form("map", required=("collection",))
def _map(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    fn = ev.arg(expr, "map", env, pos)
    items, page = ev.collection_items(ev.arg(expr, "collection", env, pos), [*pos, "collection"])
    mapped = [ev.apply(fn, [item], [*pos, "map"]) for item in items]
    return {**page, "data": mapped} if page is not None else mapped


@form("foreach", required=("collection",))
def _foreach(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    fn = ev.arg(expr, "foreach", env, pos)
    source = ev.arg(expr, "collection", env, pos)
    items, _ = ev.collection_items(source, [*pos, "collection"])
    for item in items:
        ev.apply(fn, [item], [*pos, "foreach"])
    return source


@form("filter", required=("collection",))
def _filter(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    fn = ev.arg(expr, "filter", env, pos)
    items, page = ev.collection_items(ev.arg(expr, "collection", env, pos), [*pos, "collection"])
    kept = [item for item in items if ev.boolean(ev.apply(fn, [item], [*pos, "filter"]), pos)]
    return {**page, "data": kept} if page is not None else kept


def _sized(ev: Evaluator, value: Any, pos: Pos) -> int:
    if isinstance(value, SetRef):
        return len(documents.set_entries(ev, value, pos))
    items, _ = ev.collection_items(value, pos)
    return len(items)


@form("count")
def _count(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return _sized(ev, ev.arg(expr, "count", env, pos), pos)


@form("is_empty")
def _is_empty(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return _sized(ev, ev.arg(expr, "is_empty", env, pos), pos) == 0


@form("is_nonempty")
def _is_nonempty(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return _sized(ev, ev.arg(expr, "is_nonempty", env, pos), pos) > 0


@form("append", required=("collection",))
def _append(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return list(ev.arg(expr, "collection", env, pos)) + list(ev.arg(expr, "append", env, pos))


@form("prepend", required=("collection",))
def _prepend(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return list(ev.arg(expr, "prepend", env, pos)) + list(ev.arg(expr, "collection", env, pos))


@form("take", required=("collection",))
def _take(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    items, page = ev.collection_items(ev.arg(expr, "collection", env, pos), pos)
    taken = items[: int(ev.number(ev.arg(expr, "take", env, pos), pos))]
    return {**page, "data": taken} if page is not None else taken


@form("drop", required=("collection",))
def _drop(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    items, page = ev.collection_items(ev.arg(expr, "collection", env, pos), pos)
    dropped = items[int(ev.number(ev.arg(expr, "drop", env, pos), pos)) :]
    return {**page, "data": dropped} if page is not None else dropped


@form("reverse")
def _reverse(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    items, page = ev.collection_items(ev.arg(expr, "reverse", env, pos), pos)
    return {**page, "data": items[::-1]} if page is not None else items[::-1]


@form("distinct")
def _distinct(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    items, page = ev.collection_items(ev.arg(expr, "distinct", env, pos), pos)
    unique: list[Any] = []
    for item in items:
        if item not in unique:
            unique.append(item)
    return {**page, "data": unique} if page is not None else unique


# time ------------------------------------------------------------------------------------------------------------
@form("now")
def _now(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return Time(ev.tx.now_ns)


@form("time")
def _time(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    text = ev.string(ev.arg(expr, "time", env, pos), pos)
    if text == "now":
        return Time(ev.tx.now_ns)
    try:
        return Time(parse_time(text))
    except ValueError:
        raise invalid_argument(pos, f"Cannot cast '{text}' to Time.") from None


@form("epoch", required=("unit",))
def _epoch(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    amount = ev.number(ev.arg(expr, "epoch", env, pos), pos)
    return Time(int(amount * ev.unit_ns(ev.arg(expr, "unit", env, pos), [*pos, "unit"])))


def _shift(sign: int) -> Handler:
    def handler(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        name = "time_add" if sign > 0 else "time_subtract"
        base = ev.arg(expr, name, env, pos)
        offset = ev.number(ev.arg(expr, "offset", env, pos), [*pos, "offset"])
        unit = ev.unit_ns(ev.arg(expr, "unit", env, pos), [*pos, "unit"])
        if isinstance(base, Date):
            return Date(base.day + dt.timedelta(days=sign * offset * unit / UNITS_NS["day"]))
        return Time(ev.time(base, [*pos, name]).nanos + sign * int(offset * unit))

    return handler


form("time_add", required=("offset", "unit"))(_shift(1))
form("time_subtract", required=("offset", "unit"))(_shift(-1))


@form("time_diff", required=("other", "unit"))
def _time_diff(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    start = ev.time(ev.arg(expr, "time_diff", env, pos), pos)
    other = ev.time(ev.arg(expr, "other", env, pos), [*pos, "other"])
    unit = ev.unit_ns(ev.arg(expr, "unit", env, pos), [*pos, "unit"])
    return int((other.nanos - start.nanos) / unit)


def _to_unit(name: str, divisor: int) -> None:
    def handler(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        value = ev.arg(expr, name, env, pos)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return int(value)
        return ev.time(value, pos).nanos // divisor

    form(name)(handler)


_to_unit("to_millis", 1_000_000)
_to_unit("to_micros", 1_000)
_to_unit("to_seconds", 1_000_000_000)


@form("date")
def _date(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    try:
        return Date(dt.date.fromisoformat(ev.string(ev.arg(expr, "date", env, pos), pos)))
    except ValueError:
        raise invalid_argument(pos, "Cannot cast String to Date.") from None


documents.register(form)
