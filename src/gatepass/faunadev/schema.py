"""Schema forms: refs to collections, indexes and roles, the native collections, and the definitions
``CreateCollection``, ``CreateIndex``, ``CreateRole`` and ``CreateKey`` (also reached through ``Create``).

Engine rules kept: schema is defined with a server or admin key, roles and keys with an admin key only; names are
non-empty, without ``/``, and not reserved; index terms and values name fields; privileges name resources and grant
booleans or predicate lambdas; a unique index holds no two live documents with the same terms and values, checked
when the index is made and at every write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gatepass.faunadev import secrets
from gatepass.faunadev.access import BUILTIN_ROLES
from gatepass.faunadev.errors import FaunaError, invalid_argument, permission_denied, validation_failed
from gatepass.faunadev.forms import Env, Evaluation, Handler, Pos, form
from gatepass.faunadev.literals import ref_literal
from gatepass.faunadev.records import collection_ref_for, document_view, documents_of, numeric_id, put
from gatepass.faunadev.rights import require_server
from gatepass.faunadev.sets import field_value
from gatepass.faunadev.values import (
    COLLECTIONS,
    INDEXES,
    KEYS,
    ROLES,
    TOKENS,
    Lambda,
    Ref,
    collection_ref,
    encode,
    native,
)

RESERVED_NAMES = {"events", "set", "self", "documents", "_", "collections", "indexes", "tokens", "keys", "roles"}


# refs -------------------------------------------------------------------------------------------------------------
@form("ref", required=("id",))
def _ref(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    parent = ev.arg(expr, "ref", env, pos)
    if isinstance(parent, str):  # Ref("collections/users") legacy form
        return ref_literal(ev, parent, pos)
    if not isinstance(parent, Ref):
        raise invalid_argument(pos, "Ref expected.")
    raw = ev.arg(expr, "id", env, pos)
    if parent in (COLLECTIONS, INDEXES, ROLES):
        return Ref(ev.string(raw, pos), parent)
    if parent.collection == COLLECTIONS:
        collection_ref_for(ev, parent.id, pos)
    return Ref(numeric_id(raw, [*pos, "id"]), parent)


def schema_ref(ev: Evaluation, parent: Ref, name: Any, pos: Pos) -> Ref:
    """A schema ref; it may name nothing yet (``Exists(Collection("x"))`` is false), using it then fails."""
    return Ref(ev.string(name, pos), parent)


@form("collection", "scope")
def _collection(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return schema_ref(ev, COLLECTIONS, ev.arg(expr, "collection", env, pos), pos)


@form("index", "scope")
def _index(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return schema_ref(ev, INDEXES, ev.arg(expr, "index", env, pos), pos)


@form("role", "scope")
def _role(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return schema_ref(ev, ROLES, ev.arg(expr, "role", env, pos), pos)


def _native_collection(name: str) -> Handler:
    """Register ``{name: scope}``: the native collection's ref (a database scope is not evaluated)."""

    @form(name)
    def handler(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        return native(name)

    return handler


_collections = _native_collection("collections")
_indexes = _native_collection("indexes")
_tokens = _native_collection("tokens")
_keys = _native_collection("keys")
_credentials = _native_collection("credentials")
_roles = _native_collection("roles")
_databases = _native_collection("databases")
_functions = _native_collection("functions")


# definitions -----------------------------------------------------------------------------------------------------
def _name(params: Any, pos: Pos) -> str:
    name = params.get("name") if isinstance(params, dict) else None
    if not isinstance(name, str) or not name or "/" in name or name in RESERVED_NAMES:
        raise validation_failed(["name"], "Invalid name.", pos)
    return name


def create_collection(ev: Evaluation, params: Any, pos: Pos) -> Any:
    """``CreateCollection``: server or admin keys only."""
    require_server(ev, pos)
    name = _name(params, pos)
    if ev.tx.get("collections", name) is not None:
        raise FaunaError("instance already exists", "Collection already exists.", pos)
    record = {
        "ts": ev.tx.ts_us,
        "history_days": params.get("history_days", 30),
        "ttl_days": params.get("ttl_days"),
        "data": params.get("data"),
    }
    put(ev, "collections", name, record, pos)
    return document_view(collection_ref(name), "collections", record)


def _fields(value: Any, pos: Pos, what: str) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else [value] if value is not None else []
    result = []
    for item in items:
        field = item.get("field") if isinstance(item, dict) else None
        path = field if isinstance(field, list) else [field] if isinstance(field, str) else None
        if path is None or not all(isinstance(step, (str, int)) and not isinstance(step, bool) for step in path):
            raise invalid_argument(pos, f"Index {what} must have a field.")
        entry: dict[str, Any] = {"field": path}
        if isinstance(item, dict) and item.get("reverse"):
            entry["reverse"] = True
        result.append(entry)
    return result


def create_index(ev: Evaluation, params: Any, pos: Pos) -> Any:
    """``CreateIndex`` over a collection or a native collection; unique indexes are checked now."""
    require_server(ev, pos)
    name = _name(params, pos)
    if ev.tx.get("indexes", name) is not None:
        raise FaunaError("instance already exists", "Index already exists.", pos)
    source = params.get("source")
    if not isinstance(source, Ref) or not (source.collection == COLLECTIONS or source in (TOKENS, KEYS)):
        raise invalid_argument(pos, "Index source must be a collection or a native collection.")
    record = {
        "ts": ev.tx.ts_us,
        "source": source,
        "terms": _fields(params.get("terms"), pos, "terms"),
        "values": _fields(params.get("values"), pos, "values"),
        "unique": bool(params.get("unique", False)),
        "data": params.get("data"),
    }
    put(ev, "indexes", name, record, pos)
    if record["unique"]:
        check_unique(ev, source, pos)
    return document_view(Ref(name, INDEXES), "indexes", record)


def membership(value: Any) -> list[dict[str, Any]]:
    """A role's membership as stored: a list of objects (one object alone is a list of one)."""
    items = value if isinstance(value, list) else [value] if value is not None else []
    return [m for m in items if isinstance(m, dict)]


def privileges(value: Any, pos: Pos) -> list[dict[str, Any]]:
    """A role's privileges, each naming a resource and granting booleans or predicate lambdas."""
    given = value if isinstance(value, list) else [value]
    for privilege in given:
        if not isinstance(privilege, dict) or not isinstance(privilege.get("resource"), Ref):
            raise invalid_argument(pos, "Each privilege needs a resource.")
        actions = privilege.get("actions", {})
        if not isinstance(actions, dict) or not all(isinstance(v, (bool, Lambda)) for v in actions.values()):
            raise invalid_argument(pos, "Privilege actions must be booleans or predicate lambdas.")
    return given


def create_role(ev: Evaluation, params: Any, pos: Pos) -> Any:
    """``CreateRole``: admin keys only; privileges must name resources and grant booleans or lambdas."""
    if not ev.auth.can_manage_keys:
        raise permission_denied(pos)
    name = _name(params, pos)
    if ev.tx.get("roles", name) is not None:
        raise FaunaError("instance already exists", "Role already exists.", pos)
    record = {
        "ts": ev.tx.ts_us,
        "membership": membership(params.get("membership")),
        "privileges": privileges(params.get("privileges", []), pos),
    }
    put(ev, "roles", name, record, pos)
    return document_view(Ref(name, ROLES), "roles", record)


def create_key(ev: Evaluation, params: Any, pos: Pos) -> Any:
    """``CreateKey`` with a built-in or custom role: admin keys only."""
    if not ev.auth.can_manage_keys:
        raise permission_denied(pos)
    role = params.get("role") if isinstance(params, dict) else None
    if not (role in BUILTIN_ROLES or (isinstance(role, Ref) and role.collection == ROLES)):
        raise validation_failed(["role"], "Invalid role.", pos)
    key_id = ev.tx.new_id()
    secret, secret_hash = secrets.new_secret("key", key_id)
    record = {"ts": ev.tx.ts_us, "role": role, "data": params.get("data"), "secret_hash": secret_hash}
    put(ev, "keys", str(key_id), record, pos)
    return document_view(Ref(str(key_id), KEYS), "keys", record, secret=secret)


def check_unique(ev: Evaluation, collection: Ref | None, pos: Pos) -> None:
    """Unique indexes over ``collection`` must not hold two live documents with the same terms and values. A
    document with none of the index's fields has no entry in it (as in Fauna), so it never collides."""
    if collection is None:
        return
    for index in ev.tx.rows("indexes").values():
        if not index.get("unique") or index["source"] != collection:
            continue
        paths = [t["field"] for t in index.get("terms", [])] + [v["field"] for v in index.get("values", [])]
        seen: set[str] = set()
        views = documents_of(ev, collection)
        ev.budget.charge(1 + len(views) // 4)
        for view in views:
            fields = [field_value(view, path) for path in paths]
            if all(field is None for field in fields):
                continue
            signature = repr(encode(fields))
            if signature in seen:
                raise FaunaError("instance not unique", "document is not unique.", pos)
            seen.add(signature)


def _definition(name: str, create: Callable[[Evaluation, Any, Pos], Any]) -> Handler:
    """Register ``{name: params}``: it evaluates its one argument and hands it to the definition."""

    @form(name)
    def handler(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        return create(ev, ev.arg(expr, name, env, pos), pos)

    return handler


_create_collection = _definition("create_collection", create_collection)
_create_index = _definition("create_index", create_index)
_create_role = _definition("create_role", create_role)
_create_key = _definition("create_key", create_key)
