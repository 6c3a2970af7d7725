"""Writes: documents (``Create``, ``Update`` with its deep merge where ``null`` removes a key, ``Replace``), tokens,
collections, indexes, roles and keys, with the checks the engine makes (names, fields, privileges, unique
indexes at write time). Passwords are hashed, never stored; hashing is charged to the query's budget.
"""

from __future__ import annotations

from typing import Any

from gatepass.faunadev import secrets
from gatepass.faunadev.errors import FaunaError, invalid_argument, not_found, permission_denied
from gatepass.faunadev.forms import Evaluation, Pos
from gatepass.faunadev.records import (
    allowed,
    check,
    document_view,
    documents_of,
    put,
    record_of,
    require_server,
    resource_of,
)
from gatepass.faunadev.values import COLLECTIONS, INDEXES, KEYS, ROLES, TOKENS, Lambda, Ref, Time, collection_ref

PASSWORD_UNITS = 1_000  # a PBKDF2 hash costs the time of about this many function calls
RESERVED_NAMES = {"events", "set", "self", "documents", "_", "collections", "indexes", "tokens", "keys", "roles"}


# writes ----------------------------------------------------------------------------------------------------------
def document_data(params: dict[str, Any], pos: Pos) -> dict[str, Any]:
    """The ``data`` of write parameters (an object), or ``validation failed``."""
    data = params.get("data", {})
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise FaunaError(
            "validation failed",
            "document data is not valid.",
            pos,
            [{"field": ["data"], "code": "invalid type", "description": "Invalid type, expected Object."}],
        )
    return data


def ttl_of(params: dict[str, Any], pos: Pos) -> Time | None:
    """The ``ttl`` of write parameters (a Time or null), or ``validation failed``."""
    ttl = params.get("ttl")
    if ttl is not None and not isinstance(ttl, Time):
        raise FaunaError(
            "validation failed",
            "document data is not valid.",
            pos,
            [{"field": ["ttl"], "code": "invalid type", "description": "Invalid type, expected Time."}],
        )
    return ttl


def _deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def set_password(ev: Evaluation, key: tuple[str, str], params: dict[str, Any], pos: Pos) -> None:
    """Store the hash of ``credentials.password`` for a document, if the parameters set one."""
    credentials = params.get("credentials")
    if credentials is None:
        return
    password = credentials.get("password") if isinstance(credentials, dict) else None
    if not isinstance(password, str) or not password:
        raise FaunaError(
            "validation failed",
            "document data is not valid.",
            pos,
            [
                {
                    "field": ["credentials", "password"],
                    "code": "invalid type",
                    "description": "Invalid type, expected String.",
                }
            ],
        )
    ev.budget.charge(PASSWORD_UNITS)
    put(ev, "credentials", key, {"hash": secrets.hash_password(password)}, pos)


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
    if table in ("collections", "indexes", "roles", "keys"):
        require_server(ev, pos)
        updated = dict(record)
        given = document_data(params, pos)
        updated["data"] = _deep_merge(record.get("data") or {}, given) if merge else given
        if table == "roles" and "membership" in params:
            updated["membership"] = _normalise_membership(params["membership"])
        if table == "roles" and "privileges" in params:
            updated["privileges"] = _privileges(params["privileges"], pos)
        updated["ts"] = ev.tx.ts_us
        put(ev, table, key, updated, pos)
        return document_view(target, table, updated)
    old_view = document_view(target, table, record)
    data = _deep_merge(record.get("data") or {}, document_data(params, pos)) if merge else document_data(params, pos)
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


def create_token(ev: Evaluation, params: dict[str, Any], pos: Pos, *, checked: bool = False) -> Any:
    """A new token for ``params.instance``; its secret is shown once, in this answer."""
    if not checked and not allowed(ev, "create", TOKENS, [params]):
        raise permission_denied(pos)
    instance = params.get("instance")
    if not isinstance(instance, Ref):
        raise FaunaError(
            "validation failed",
            "document data is not valid.",
            pos,
            [{"field": ["instance"], "code": "value required", "description": "Value required."}],
        )
    _, _, identity = record_of(ev, instance)
    if identity is None or instance.collection is None or instance.collection.collection != COLLECTIONS:
        raise not_found(pos)
    token_id = ev.tx.new_id()
    secret, secret_hash = secrets.new_secret("token", token_id)
    record = {
        "ts": ev.tx.ts_us,
        "instance": instance,
        "ttl": ttl_of(params, pos),
        "data": document_data(params, pos),
        "secret_hash": secret_hash,
    }
    put(ev, "tokens", str(token_id), record, pos)
    return document_view(Ref(str(token_id), TOKENS), "tokens", record, secret=secret)


def _name(params: Any, pos: Pos) -> str:
    name = params.get("name") if isinstance(params, dict) else None
    if not isinstance(name, str) or not name or "/" in name or name in RESERVED_NAMES:
        raise FaunaError(
            "validation failed",
            "document data is not valid.",
            pos,
            [{"field": ["name"], "code": "invalid type", "description": "Invalid name."}],
        )
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


def _normalise_membership(value: Any) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else [value] if value is not None else []
    return [m for m in items if isinstance(m, dict)]


def _privileges(value: Any, pos: Pos) -> list[dict[str, Any]]:
    privileges = value if isinstance(value, list) else [value]
    for privilege in privileges:
        if not isinstance(privilege, dict) or not isinstance(privilege.get("resource"), Ref):
            raise invalid_argument(pos, "Each privilege needs a resource.")
        actions = privilege.get("actions", {})
        if not isinstance(actions, dict) or not all(isinstance(v, (bool, Lambda)) for v in actions.values()):
            raise invalid_argument(pos, "Privilege actions must be booleans or predicate lambdas.")
    return privileges


def create_role(ev: Evaluation, params: Any, pos: Pos) -> Any:
    """``CreateRole``: admin keys only; privileges must name resources and grant booleans or lambdas."""
    if not ev.auth.can_manage_keys:
        raise permission_denied(pos)
    name = _name(params, pos)
    if ev.tx.get("roles", name) is not None:
        raise FaunaError("instance already exists", "Role already exists.", pos)
    privileges = _privileges(params.get("privileges", []), pos)
    record = {
        "ts": ev.tx.ts_us,
        "membership": _normalise_membership(params.get("membership")),
        "privileges": privileges,
    }
    put(ev, "roles", name, record, pos)
    return document_view(Ref(name, ROLES), "roles", record)


def create_key(ev: Evaluation, params: Any, pos: Pos) -> Any:
    """``CreateKey`` with a built-in or custom role: admin keys only."""
    if not ev.auth.can_manage_keys:
        raise permission_denied(pos)
    role = params.get("role") if isinstance(params, dict) else None
    if not (
        role in ("admin", "server", "server-readonly", "client") or (isinstance(role, Ref) and role.collection == ROLES)
    ):
        raise FaunaError(
            "validation failed",
            "document data is not valid.",
            pos,
            [{"field": ["role"], "code": "invalid type", "description": "Invalid role."}],
        )
    key_id = ev.tx.new_id()
    secret, secret_hash = secrets.new_secret("key", key_id)
    record = {"ts": ev.tx.ts_us, "role": role, "data": params.get("data"), "secret_hash": secret_hash}
    put(ev, "keys", str(key_id), record, pos)
    return document_view(Ref(str(key_id), KEYS), "keys", record, secret=secret)


def check_unique(ev: Evaluation, collection: Ref | None, pos: Pos) -> None:
    """Unique indexes over ``collection`` must not hold two live documents with the same terms and values. A
    document with none of the index's fields has no entry in it (as in Fauna), so it never collides."""
    from gatepass.faunadev.sets import field_value
    from gatepass.faunadev.values import encode

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
