"""Document forms: the sets ``Documents`` and ``Match`` and their pages (``Paginate``), and ``Get``, ``Exists``,
``Create``, ``Update``, ``Replace`` and ``Delete`` on any record (documents, schema, keys, tokens, access providers).

Engine rules kept: every read and write is checked against the caller's rights (``rights``); ``Paginate`` pages
hold 1 to 100,000 entries (64 by default); ``Update`` deep-merges ``data``, where ``null`` removes a key, and
``Replace`` replaces it; a write predicate sees the credentials being set, which are stored apart and never
returned; deleting a collection deletes its documents.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gatepass.faunadev.errors import FaunaError, invalid_argument, not_found
from gatepass.faunadev.forms import Env, Evaluation, Pos, form
from gatepass.faunadev.identity import create_token, set_password
from gatepass.faunadev.providers import create_access_provider, write_access_provider
from gatepass.faunadev.pure import comparable
from gatepass.faunadev.records import (
    cursor_key,
    deep_merge,
    document_data,
    document_view,
    is_live,
    lookup,
    put,
    record_of,
    set_entries,
    ttl_of,
)
from gatepass.faunadev.rights import check, require_admin, require_server, resource_of
from gatepass.faunadev.schema import (
    check_unique,
    create_collection,
    create_index,
    create_key,
    create_role,
    membership,
    privileges,
)
from gatepass.faunadev.sets import paginate
from gatepass.faunadev.values import ACCESS_PROVIDERS, COLLECTIONS, INDEXES, KEYS, ROLES, TOKENS, Ref, SetRef

DEFAULT_PAGE = 64
MAX_PAGE = 100_000
SCHEMA_TABLES = ("collections", "indexes", "roles", "keys")


# sets and pages ----------------------------------------------------------------------------------------------------
@form("documents")
def _documents(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    collection = ev.arg(expr, "documents", env, pos)
    if not isinstance(collection, Ref):
        raise invalid_argument(pos, "Collection Ref expected.")
    return SetRef({"documents": collection})


@form("match", "terms")
def _match(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    index = ev.arg(expr, "match", env, pos)
    if not isinstance(index, Ref) or index.collection != INDEXES:
        raise invalid_argument(pos, "Index Ref expected.")
    spec: dict[str, Any] = {"match": index}
    if "terms" in expr:
        spec["terms"] = ev.arg(expr, "terms", env, pos)
    return SetRef(spec)


@form("paginate", "size", "after", "before", "ts", "events", "sources", "cursor")
def _paginate(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    entries = set_entries(ev, ev.arg(expr, "paginate", env, pos), [*pos, "paginate"])
    size = ev.arg(expr, "size", env, pos) if "size" in expr else DEFAULT_PAGE
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_PAGE:
        raise invalid_argument([*pos, "size"], f"Integer between 1 and {MAX_PAGE} expected.")
    after = ev.arg(expr, "after", env, pos) if "after" in expr else None
    before = ev.arg(expr, "before", env, pos) if "before" in expr else None
    after = after if after is None or isinstance(after, list) else [after]
    before = before if before is None or isinstance(before, list) else [before]
    comparable(ev, [after, before], [*pos, "paginate"])
    return paginate(entries, size, after, before, cursor_key)


# reads -------------------------------------------------------------------------------------------------------------
@form("get", "ts")
def _get(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    ref, table, _, record = lookup(ev, ev.arg(expr, "get", env, pos), pos)
    check(ev, "read", resource_of(ref), [ref], pos)
    return document_view(ref, table, record)


@form("exists", "ts")
def _exists(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    target = ev.arg(expr, "exists", env, pos)
    if isinstance(target, SetRef):
        return bool(set_entries(ev, target, pos))
    if not isinstance(target, Ref):
        raise invalid_argument(pos, "Ref expected.")
    check(ev, "read", resource_of(target), [target], pos)
    table, _, record = record_of(ev, target)
    return record is not None and table not in ("native", "unknown")


# writes ------------------------------------------------------------------------------------------------------------
@form("create", "params")
def _create(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    target = ev.arg(expr, "create", env, pos)
    params = ev.arg(expr, "params", env, pos) if "params" in expr else {}
    if not isinstance(params, dict):
        raise invalid_argument([*pos, "params"], "Object expected.")
    if not isinstance(target, Ref):
        raise invalid_argument(pos, "Ref expected.")
    if target == TOKENS or target.collection == TOKENS:
        return create_token(ev, params, pos)
    if target in (COLLECTIONS, INDEXES, ROLES, KEYS, ACCESS_PROVIDERS):
        creator: dict[Ref, Callable[[Evaluation, Any, Pos], Any]] = {
            COLLECTIONS: create_collection,
            INDEXES: create_index,
            ROLES: create_role,
            KEYS: create_key,
            ACCESS_PROVIDERS: create_access_provider,
        }
        return creator[target](ev, params, pos)
    return create_document(ev, target, params, pos)


def create_document(ev: Evaluation, target: Ref, params: dict[str, Any], pos: Pos) -> Any:
    """``Create`` in a user collection (``target`` is the collection, or a ref with the new document's id)."""
    collection = target if target.collection == COLLECTIONS else target.collection
    if collection is None or collection.collection != COLLECTIONS:
        raise invalid_argument(pos, "Collection Ref expected.")
    if ev.tx.get("collections", collection.id) is None:
        raise FaunaError("invalid ref", f"Ref refers to undefined collection '{collection.id}'", pos)
    check(ev, "create", collection, [params], pos)
    doc_id = target.id if target.collection == collection else str(ev.tx.new_id())
    key = (collection.id, doc_id)
    if is_live(ev.tx.get("documents", key), ev):
        raise FaunaError("instance already exists", "Document already exists.", pos)
    record = {"ts": ev.tx.ts_us, "data": document_data(params, pos), "ttl": ttl_of(params, pos)}
    put(ev, "documents", key, record, pos)
    set_password(ev, key, params, pos)
    check_unique(ev, collection, pos)
    return document_view(Ref(doc_id, collection), "documents", record)


def write(ev: Evaluation, target: Any, params: Any, pos: Pos, *, merge: bool) -> Any:
    """``Update`` (``merge``) or ``Replace`` of any record, with the caller's write rights checked."""
    if not isinstance(params, dict):
        raise invalid_argument([*pos, "params"], "Object expected.")
    if not isinstance(target, Ref):
        raise invalid_argument(pos, "Ref expected.")
    table, key, record = record_of(ev, target)
    if record is None:
        raise not_found(pos)
    if table in ("native", "unknown"):
        raise invalid_argument(pos, "Cannot update a schema meta collection.")
    if table == "access_providers":
        return write_access_provider(ev, key, record, params, pos, merge=merge)
    if table in SCHEMA_TABLES:
        require_server(ev, pos)
        updated = dict(record)
        given = document_data(params, pos)
        updated["data"] = deep_merge(record.get("data") or {}, given) if merge else given
        if table == "roles" and "membership" in params:
            updated["membership"] = membership(params["membership"])
        if table == "roles" and "privileges" in params:
            updated["privileges"] = privileges(params["privileges"], pos)
        updated["ts"] = ev.tx.ts_us
        put(ev, table, key, updated, pos)
        return document_view(target, table, updated)
    old_view = document_view(target, table, record)
    data = deep_merge(record.get("data") or {}, document_data(params, pos)) if merge else document_data(params, pos)
    updated = {**record, "data": data, "ts": ev.tx.ts_us}
    if "ttl" in params:
        updated["ttl"] = ttl_of(params, pos)
    new_view = document_view(target, table, updated)
    # as in Fauna, the write predicate sees the credentials being set (they are stored apart, never returned)
    seen_view = {**new_view, "credentials": params["credentials"]} if "credentials" in params else new_view
    check(ev, "write", resource_of(target), [old_view, seen_view, target], pos)
    put(ev, table, key, updated, pos)
    if table == "documents":
        set_password(ev, key, params, pos)
        check_unique(ev, target.collection, pos)
    return new_view


@form("update", "params")
def _update(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    target = ev.arg(expr, "update", env, pos)
    params = ev.arg(expr, "params", env, pos) if "params" in expr else {}
    return write(ev, target, params, pos, merge=True)


@form("replace", "params")
def _replace(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    target = ev.arg(expr, "replace", env, pos)
    params = ev.arg(expr, "params", env, pos) if "params" in expr else {}
    return write(ev, target, params, pos, merge=False)


@form("delete")
def _delete(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    ref, table, key, record = lookup(ev, ev.arg(expr, "delete", env, pos), pos)
    if table == "access_providers":
        require_admin(ev, pos)
    elif table in SCHEMA_TABLES:
        require_server(ev, pos)
    else:
        check(ev, "delete", resource_of(ref), [ref], pos)
    view = document_view(ref, table, record)
    ev.tx.remove(table, key)
    if table == "documents":
        ev.tx.remove("credentials", key)
    if table == "collections":
        for doc_key in [k for k in ev.tx.rows("documents") if k[0] == ref.id]:
            ev.tx.remove("documents", doc_key)
            ev.tx.remove("credentials", doc_key)
    return view
