"""Records behind refs, the views Fauna answers with, the parameters every write shares, and the members of sets.

Engine rules kept: ids are 64-bit numbers; a record with a ``ttl`` in the past is gone (404, absent from sets); a
token is live only while it and its identity document are; ``data`` is an object and ``ttl`` a Time; reading a
set's members needs read rights on its collection or index (``rights``).
"""

from __future__ import annotations

from typing import Any

from gatepass.faunadev.errors import FaunaError, invalid_argument, not_found, validation_failed
from gatepass.faunadev.forms import Evaluation, Pos
from gatepass.faunadev.limits import MAX_STORED_MEMBERS, value_problem
from gatepass.faunadev.rights import check
from gatepass.faunadev.sets import index_entries, sort_key
from gatepass.faunadev.values import (
    ACCESS_PROVIDERS,
    COLLECTIONS,
    INDEXES,
    KEYS,
    NATIVE_COLLECTIONS,
    ROLES,
    TOKENS,
    Ref,
    SetRef,
    Time,
    collection_ref,
)

MAX_ID = 2**63 - 1


# refs ---------------------------------------------------------------------------------------------------------------
def collection_ref_for(ev: Evaluation, name: str, pos: Pos) -> Ref:
    """The ref of an existing collection; ``invalid ref`` for one that does not exist."""
    if ev.tx.get("collections", name) is None:
        raise FaunaError("invalid ref", f"Ref refers to undefined collection '{name}'", pos)
    return collection_ref(name)


def numeric_id(value: Any, pos: Pos) -> str:
    """A document id: a non-negative 64-bit number, given as a number or a string of ASCII digits."""
    text = str(value) if isinstance(value, (int, str)) and not isinstance(value, bool) else None
    if text is None or not (text.isascii() and text.isdigit()) or len(text) > 19 or int(text) > MAX_ID:
        shown = text[:32] if text is not None else type(value).__name__
        raise invalid_argument(pos, f"Number or numeric String expected, non-numeric '{shown}' provided.")
    return str(int(text))


def put(ev: Evaluation, table: str, key: Any, record: dict[str, Any], pos: Pos) -> None:
    """Write a record, if it nests no deeper than a JSON answer (and the snapshot) may, and is not huge."""
    problem = value_problem(record, ev.budget, max_members=MAX_STORED_MEMBERS)
    if problem is not None:
        raise invalid_argument(pos, problem)
    ev.tx.put(table, key, record)


# records ---------------------------------------------------------------------------------------------------------
def is_live(record: dict[str, Any] | None, ev: Evaluation) -> bool:
    """True for a record that exists and whose ``ttl`` (if any) is still ahead."""
    if record is None:
        return False
    ttl = record.get("ttl")
    return ttl is None or ev.tx.now_ns < ttl.nanos


def record_of(ev: Evaluation, ref: Ref) -> tuple[str, Any, dict[str, Any] | None]:
    """(table, key, live record or None) for any ref."""
    if ref.collection is None:
        if ref.id in NATIVE_COLLECTIONS:
            return "native", ref.id, {"ts": 0}
        return "native", ref.id, None
    parent = ref.collection
    if parent == COLLECTIONS:
        return "collections", ref.id, ev.tx.get("collections", ref.id)
    if parent == INDEXES:
        return "indexes", ref.id, ev.tx.get("indexes", ref.id)
    if parent == ROLES:
        return "roles", ref.id, ev.tx.get("roles", ref.id)
    if parent == TOKENS:
        record = ev.tx.get("tokens", ref.id)
        return "tokens", ref.id, record if is_live(record, ev) and token_identity_live(ev, record) else None
    if parent == KEYS:
        return "keys", ref.id, ev.tx.get("keys", ref.id)
    if parent == ACCESS_PROVIDERS:
        return "access_providers", ref.id, ev.tx.get("access_providers", ref.id)
    if parent.collection == COLLECTIONS:
        record = ev.tx.get("documents", (parent.id, ref.id))
        return "documents", (parent.id, ref.id), record if is_live(record, ev) else None
    return "unknown", None, None


def token_identity_live(ev: Evaluation, record: dict[str, Any] | None) -> bool:
    """True while a token's identity document exists and is live."""
    if record is None:
        return False
    instance: Ref = record["instance"]
    if instance.collection is None:
        return False
    return is_live(ev.tx.get("documents", (instance.collection.id, instance.id)), ev)


def document_view(ref: Ref, table: str, record: dict[str, Any], *, secret: str | None = None) -> dict[str, Any]:
    """A record as Fauna returns it (only a new key's or token's answer shows its secret)."""
    if table == "documents":
        view: dict[str, Any] = {"ref": ref, "ts": record["ts"], "data": record.get("data", {})}
        if record.get("ttl") is not None:
            view["ttl"] = record["ttl"]
        return view
    if table == "tokens":
        view = {"ref": ref, "ts": record["ts"], "instance": record["instance"]}
        if record.get("ttl") is not None:
            view["ttl"] = record["ttl"]
        if record.get("data"):
            view["data"] = record["data"]
        view.update({"secret": secret} if secret else {"hashed_secret": record["secret_hash"]})
        return view
    if table == "keys":
        view = {"ref": ref, "ts": record["ts"], "role": record["role"]}
        if record.get("data"):
            view["data"] = record["data"]
        if secret:
            view["secret"] = secret
        view["hashed_secret"] = record["secret_hash"]
        return view
    if table == "collections":
        view = {"ref": ref, "ts": record["ts"], "history_days": record.get("history_days", 30), "name": ref.id}
        for extra in ("ttl_days", "data"):
            if record.get(extra) is not None:
                view[extra] = record[extra]
        return view
    if table == "indexes":
        view = {"ref": ref, "ts": record["ts"], "active": True, "serialized": True, "name": ref.id}
        view.update({"source": record["source"], "unique": record.get("unique", False), "partitions": 1})
        for extra in ("terms", "values", "data"):
            if record.get(extra):
                view[extra] = record[extra]
        return view
    if table == "access_providers":
        return provider_view(ref, record)
    if table == "roles":
        view = {"ref": ref, "ts": record["ts"], "name": ref.id, "privileges": record.get("privileges", [])}
        if record.get("membership"):
            view["membership"] = record["membership"]
        return view
    return {"ref": ref, "ts": record.get("ts", 0)}


def provider_view(ref: Ref, record: dict[str, Any]) -> dict[str, Any]:
    """An access provider as Fauna returns it: its roles as given, and the ``audience`` its JWTs must name."""
    view: dict[str, Any] = {"ref": ref, "ts": record["ts"], "name": ref.id, "issuer": record["issuer"]}
    view["jwks_uri"] = record["jwks_uri"]
    if record.get("roles") is not None:
        view["roles"] = record["roles"]
    view["audience"] = record["audience"]
    if record.get("data") is not None:
        view["data"] = record["data"]
    return view


def lookup(ev: Evaluation, target: Any, pos: Pos) -> tuple[Ref, str, Any, dict[str, Any]]:
    """(ref, table, key, live record) behind a ref, or behind the first member of a set; else ``not found``."""
    if isinstance(target, SetRef):
        entries = set_entries(ev, target, pos)
        if not entries:
            raise not_found(pos, "Set")
        first = entries[0][1]
        target = first if isinstance(first, Ref) else first[-1] if isinstance(first, list) else first
    if not isinstance(target, Ref):
        raise invalid_argument(pos, f"Ref or Set expected, {type(target).__name__} provided.")
    table, key, record = record_of(ev, target)
    if record is None or table in ("native", "unknown"):
        # Fauna names a missing access provider "other" (``Renderable.NativeTypeToName`` has no case for it)
        raise not_found(pos, "other" if target.collection == ACCESS_PROVIDERS else "Document")
    return target, table, key, record


# write parameters ------------------------------------------------------------------------------------------------
def document_data(params: dict[str, Any], pos: Pos) -> dict[str, Any]:
    """The ``data`` of write parameters (an object), or ``validation failed``."""
    data = params.get("data", {})
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise validation_failed(["data"], "Invalid type, expected Object.", pos)
    return data


def ttl_of(params: dict[str, Any], pos: Pos) -> Time | None:
    """The ``ttl`` of write parameters (a Time or null), or ``validation failed``."""
    ttl = params.get("ttl")
    if ttl is not None and not isinstance(ttl, Time):
        raise validation_failed(["ttl"], "Invalid type, expected Time.", pos)
    return ttl


# sets ------------------------------------------------------------------------------------------------------------
def documents_of(ev: Evaluation, collection: Ref) -> list[dict[str, Any]]:
    """Live records of a collection (user or native) as document views."""
    if collection == TOKENS:
        rows = ev.tx.rows("tokens")
        return [
            document_view(Ref(key, TOKENS), "tokens", rec, secret=None)
            for key, rec in rows.items()
            if is_live(rec, ev) and token_identity_live(ev, rec)
        ]
    if collection in (KEYS, COLLECTIONS, INDEXES, ROLES, ACCESS_PROVIDERS):
        tables = {KEYS: "keys", COLLECTIONS: "collections", INDEXES: "indexes", ROLES: "roles"}
        table = tables.get(collection, "access_providers")
        return [document_view(Ref(key, collection), table, rec) for key, rec in ev.tx.rows(table).items()]
    if collection.collection == COLLECTIONS:
        return [
            document_view(Ref(key[1], collection), "documents", rec)
            for key, rec in ev.tx.rows("documents").items()
            if key[0] == collection.id and is_live(rec, ev)
        ]
    return []


def set_entries(ev: Evaluation, value: Any, pos: Pos) -> list[tuple[tuple[Any, ...], Any, list[Any]]]:
    """The sorted entries of a set: ``(sort key, entry, cursor)``, read rights checked."""
    if isinstance(value, Ref) and value.collection is None and value.id in NATIVE_COLLECTIONS:
        value = SetRef({"documents": value})
    if not isinstance(value, SetRef):
        raise invalid_argument(pos, "Set expected.")
    spec = value.spec
    if "documents" in spec:
        collection = spec["documents"]
        if collection.collection == COLLECTIONS:
            collection_ref_for(ev, collection.id, pos)
        check(ev, "read", collection, [], pos)
        found = documents_of(ev, collection)
        ev.budget.charge(1 + len(found) // 8)
        return index_entries(found, [], [], None)
    if "match" in spec:
        index: Ref = spec["match"]
        record = ev.tx.get("indexes", index.id)
        if record is None:
            raise FaunaError("invalid ref", f"Ref refers to undefined index '{index.id}'", pos)
        terms_given = spec.get("terms")
        term_fields = [t["field"] for t in record.get("terms", [])]
        wanted = None
        if term_fields:
            wanted = terms_given if isinstance(terms_given, list) and len(term_fields) > 1 else [terms_given]
            if terms_given is None:
                wanted = None
        check(ev, "read", index, [wanted if wanted is None or len(wanted) > 1 else wanted[0]], pos)
        documents = documents_of(ev, record["source"])
        ev.budget.charge(1 + len(documents) // 8)
        if wanted is None and term_fields:
            return []
        return index_entries(documents, term_fields, record.get("values", []), wanted)
    raise invalid_argument(pos, "Set expected.")


def cursor_key(cursor: list[Any]) -> tuple[Any, ...]:
    """The sort key of a page cursor, comparable with the entries' keys."""
    return tuple(sort_key(c) for c in cursor)


def deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``update`` merged into ``base`` as Fauna's ``Update`` does: objects merge, ``null`` removes a field."""
    merged = dict(base)
    for key, value in update.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
