"""Sets and pages: the members of ``Documents(c)``, native collections, and ``Match(index, terms)``, sorted the way
Fauna sorts index entries (by values, then ref), with ``size``/``after``/``before`` cursors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from gatepass.faunadev.values import Date, Ref, Time
from gatepass.untrusted import is_ascii_digits


def sort_key(value: Any) -> tuple[Any, ...]:
    """A total order over FQL values, enough to sort index entries and compare cursors."""
    if value is None:
        return (0,)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, (int, float)):
        return (2, value)
    if isinstance(value, str):
        return (3, value)
    if isinstance(value, Time):
        return (4, value.nanos)
    if isinstance(value, Date):
        return (4.5, value.day.toordinal())
    if isinstance(value, Ref):
        ident = int(value.id) if is_ascii_digits(value.id, 30) else value.id
        return (
            5,
            value.collection.id if value.collection else "",
            (0, ident) if isinstance(ident, int) else (1, ident),
        )
    if isinstance(value, list):
        return (6, tuple(sort_key(v) for v in value))
    if isinstance(value, dict):
        return (7, tuple(sorted((k, sort_key(v)) for k, v in value.items())))
    return (8, type(value).__name__, repr(value))


def field_value(document: dict[str, Any], path: Sequence[Any]) -> Any:
    """The value at ``path`` in a document view, or None where the path leads nowhere."""
    current: Any = document
    for step in path:
        if isinstance(current, dict) and step in current:
            current = current[step]
        elif isinstance(current, list) and isinstance(step, int) and 0 <= step < len(current):
            current = current[step]
        elif isinstance(current, Ref) and step == "id":
            current = current.id
        else:
            return None
    return current


def term_matches(stored: Any, wanted: Any) -> bool:
    """Whether a stored field matches a wanted term (an array field matches any of its members)."""
    if isinstance(stored, list) and not isinstance(wanted, list):
        return wanted in stored
    return bool(stored == wanted)


def index_entries(
    documents: list[dict[str, Any]],
    terms: list[list[Any]],
    values: list[dict[str, Any]],
    wanted: list[Any] | None,
) -> list[tuple[tuple[Any, ...], Any, list[Any]]]:
    """(sort key, the entry as returned, the entry's cursor) for every document the terms select."""
    entries = []
    for document in documents:
        if wanted is not None and terms:
            if len(wanted) != len(terms):
                continue
            if not all(term_matches(field_value(document, path), w) for path, w in zip(terms, wanted, strict=True)):
                continue
        ref = document["ref"]
        if values:
            picked = [field_value(document, v["field"]) for v in values]
            entry: Any = picked[0] if len(picked) == 1 else picked
            cursor = [*picked, ref]
            key = tuple(_directed(sort_key(p), v.get("reverse", False)) for p, v in zip(picked, values, strict=True))
            key += (sort_key(ref),)
        else:
            entry, cursor, key = ref, [ref], (sort_key(ref),)
        entries.append((key, entry, cursor))
    entries.sort(key=lambda e: e[0])
    return entries


def _directed(key: tuple[Any, ...], reverse: bool) -> Any:
    return _Reversed(key) if reverse else key


class _Reversed:
    """A sort key in descending order. A plain key it meets (a cursor's) is taken to be in the same order."""

    def __init__(self, key: tuple[Any, ...]) -> None:
        self.key = key

    @staticmethod
    def _key(other: object) -> Any:
        return other.key if isinstance(other, _Reversed) else other

    def __lt__(self, other: object) -> bool:
        return bool(self._key(other) < self.key)

    def __gt__(self, other: object) -> bool:
        return bool(self.key < self._key(other))

    def __eq__(self, other: object) -> bool:
        return bool(self.key == self._key(other))

    def __hash__(self) -> int:
        return hash(self.key)


def paginate(
    entries: list[tuple[tuple[Any, ...], Any, list[Any]]],
    size: int,
    after: list[Any] | None,
    before: list[Any] | None,
    cursor_key: Callable[[list[Any]], tuple[Any, ...]],
) -> dict[str, Any]:
    """One page of sorted entries, after ``after`` or before ``before``, with the cursors of its neighbours."""
    if before is not None:
        bound = cursor_key(before)
        selected = [e for e in entries if e[0] < bound]
        page = selected[-size:]
        result: dict[str, Any] = {}
        if len(selected) > size:
            result["before"] = page[0][2]
        result["after"] = before
        result["data"] = [e[1] for e in page]
        return result
    start = 0
    if after is not None:
        bound = cursor_key(after)
        while start < len(entries) and entries[start][0] < bound:
            start += 1
    page = entries[start : start + size]
    result = {}
    if start > 0:
        result["before"] = entries[start][2] if start < len(entries) else entries[-1][2]
    if start + size < len(entries):
        result["after"] = entries[start + size][2]
    result["data"] = [e[1] for e in page]
    return result
