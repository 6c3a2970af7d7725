"""Pure FQL forms on objects and arrays (and pages): ``Select``, ``SelectAll``, ``ContainsPath``, ``ContainsField``,
``ContainsValue``, ``Merge``, ``Map``, ``Foreach``, ``Filter``, ``Count``, ``IsEmpty``, ``IsNonEmpty``, ``Append``,
``Prepend``, ``Take``, ``Drop``, ``Reverse``, ``Distinct``.

Semantics follow the engine: a path steps into objects by key, arrays by index and refs by ``id`` and
``collection``; ``Merge`` drops the keys merged as ``null``; the forms over collections take an array or a page and
answer a page when given one; ``Count`` and its kin also count a set's members; ``Distinct`` tells ``1``, ``1.0``
and ``true`` apart. Bulk forms charge the query's budget for the elements they touch.
"""

from __future__ import annotations

import json
from typing import Any

from gatepass.faunadev.errors import FaunaError, invalid_argument
from gatepass.faunadev.forms import Env, Evaluation, Pos, form, type_name
from gatepass.faunadev.pure import comparable, values_equal
from gatepass.faunadev.records import set_entries
from gatepass.faunadev.values import Ref, SetRef, encode


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
        return len(set_entries(ev, value, pos))
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
