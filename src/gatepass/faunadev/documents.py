"""Document, schema and authentication forms (``records`` holds the refs, rights and sets they use; ``writes``
the writes).

Engine rules kept: ``Paginate`` pages hold 1 to 100,000 entries (64 by default); creating tokens, ``Login``,
``Identify`` and ``KeyFromSecret`` need a server or admin key; ``Login`` fails the same way for a missing document
and a wrong password.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gatepass.faunadev import pure, secrets
from gatepass.faunadev.errors import FaunaError, invalid_argument, not_found
from gatepass.faunadev.forms import Env, Evaluation, Handler, Pos, form
from gatepass.faunadev.limits import LimitExceeded
from gatepass.faunadev.records import (
    check,
    collection_ref_for,
    cursor_key,
    document_view,
    is_live,
    numeric_id,
    put,
    record_of,
    require_server,
    resource_of,
    schema_ref,
    set_entries,
)
from gatepass.faunadev.sets import paginate
from gatepass.faunadev.values import COLLECTIONS, INDEXES, KEYS, ROLES, TOKENS, Ref, SetRef, native
from gatepass.faunadev.writes import (
    PASSWORD_UNITS,
    check_unique,
    create_collection,
    create_index,
    create_key,
    create_role,
    create_token,
    document_data,
    set_password,
    ttl_of,
    write,
)

DEFAULT_PAGE = 64
MAX_PAGE = 100_000


# forms -------------------------------------------------------------------------------------------------------------
@form("ref", required=("id",))
def _ref(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    parent = ev.arg(expr, "ref", env, pos)
    if isinstance(parent, str):  # Ref("collections/users") legacy form
        return ev.literal("@ref", parent, env, pos)
    if not isinstance(parent, Ref):
        raise invalid_argument(pos, "Ref expected.")
    raw = ev.arg(expr, "id", env, pos)
    if parent in (COLLECTIONS, INDEXES, ROLES):
        return Ref(ev.string(raw, pos), parent)
    if parent.collection == COLLECTIONS:
        collection_ref_for(ev, parent.id, pos)
    return Ref(numeric_id(raw, [*pos, "id"]), parent)


for kind in ("collection", "index", "role"):

    def make(kind: str = kind) -> Handler:
        def handler(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
            return schema_ref(ev, kind, ev.arg(expr, kind, env, pos), pos)

        return handler

    form(kind, "scope")(make())

for name in ("collections", "indexes", "tokens", "keys", "credentials", "roles", "databases", "functions"):

    def make_native(name: str = name) -> Handler:
        return lambda ev, expr, env, pos: native(name)

    form(name)(make_native())


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
    pure.comparable(ev, [after, before], [*pos, "paginate"])
    return paginate(entries, size, after, before, cursor_key)


def _lookup(ev: Evaluation, target: Any, pos: Pos) -> tuple[Ref, str, Any, dict[str, Any]]:
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
        raise not_found(pos)
    return target, table, key, record


@form("get", "ts")
def _get(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    ref, table, _, record = _lookup(ev, ev.arg(expr, "get", env, pos), pos)
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
    if target in (COLLECTIONS, INDEXES, ROLES, KEYS):
        creator = {COLLECTIONS: create_collection, INDEXES: create_index, ROLES: create_role, KEYS: create_key}
        return creator[target](ev, params, pos)
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


@form("update", "params")
def _update(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return write(
        ev,
        ev.arg(expr, "update", env, pos),
        ev.arg(expr, "params", env, pos) if "params" in expr else {},
        pos,
        merge=True,
    )


@form("replace", "params")
def _replace(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return write(
        ev,
        ev.arg(expr, "replace", env, pos),
        ev.arg(expr, "params", env, pos) if "params" in expr else {},
        pos,
        merge=False,
    )


@form("delete")
def _delete(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    ref, table, key, record = _lookup(ev, ev.arg(expr, "delete", env, pos), pos)
    if table in ("collections", "indexes", "roles", "keys"):
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


def _schema_form(name: str, create: Callable[[Evaluation, Any, Pos], Any]) -> None:
    """``{name: params}`` evaluates its one argument and hands it to the writer."""

    @form(name)
    def evaluate(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        return create(ev, ev.arg(expr, name, env, pos), pos)


_schema_form("create_collection", create_collection)
_schema_form("create_index", create_index)
_schema_form("create_role", create_role)
_schema_form("create_key", create_key)


@form("key_from_secret")
def _key_from_secret(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    require_server(ev, pos)
    secret = ev.string(ev.arg(expr, "key_from_secret", env, pos), pos)
    parsed = secrets.parse_secret(secret)
    table = "tokens" if parsed is not None and parsed.kind == "token" else "keys"
    if parsed is not None:
        ref = Ref(str(parsed.id), TOKENS if table == "tokens" else KEYS)
        _, _, record = record_of(ev, ref)
        if record is not None and secrets.secret_matches(parsed, record["secret_hash"]):
            return document_view(ref, table, record)
    raise not_found(pos, "Key")


@form("login", required=("params",))
def _login(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    require_server(ev, pos)
    target = ev.arg(expr, "login", env, pos)
    params = ev.arg(expr, "params", env, pos)
    failure = FaunaError("authentication failed", "The document was not found or provided password was incorrect.", pos)
    try:
        ref, table, key, _ = _lookup(ev, target, pos)
    except LimitExceeded:
        raise
    except FaunaError:
        raise failure from None
    stored = ev.tx.get("credentials", key) if table == "documents" else None
    password = params.get("password") if isinstance(params, dict) else None
    ev.budget.charge(PASSWORD_UNITS)
    if stored is None or not isinstance(password, str) or not secrets.password_matches(password, stored["hash"]):
        raise failure
    token_params = {"instance": ref, **{k: v for k, v in params.items() if k in ("ttl", "data")}}
    return create_token(ev, token_params, pos, checked=True)


@form("identify", required=("password",))
def _identify(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    require_server(ev, pos)
    target = ev.arg(expr, "identify", env, pos)
    password = ev.arg(expr, "password", env, pos)
    if not isinstance(target, Ref) or target.collection is None:
        return False
    table, key, record = record_of(ev, target)
    stored = ev.tx.get("credentials", key) if table == "documents" and record is not None else None
    ev.budget.charge(PASSWORD_UNITS)
    return bool(stored and isinstance(password, str) and secrets.password_matches(password, stored["hash"]))


@form("logout")
def _logout(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    everything = ev.boolean(ev.arg(expr, "logout", env, pos), pos)
    auth = ev.auth
    if auth.kind != "token" or auth.token_id is None:
        return False
    if everything:
        for token_id, record in list(ev.tx.rows("tokens").items()):
            if record["instance"] == auth.identity:
                ev.tx.remove("tokens", token_id)
    else:
        ev.tx.remove("tokens", auth.token_id)
    return True


def _identity(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    if ev.auth.identity is None:
        raise FaunaError("missing identity", "Authentication does not contain an identity", pos)
    return ev.auth.identity


form("current_identity")(_identity)
form("identity")(_identity)


@form("has_current_identity")
def _has_identity(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return ev.auth.identity is not None


form("has_identity")(_has_identity)


@form("current_token")
def _current_token(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    auth = ev.auth
    if auth.token_id is not None:
        return Ref(auth.token_id, TOKENS)
    if auth.key_id is not None:
        return Ref(auth.key_id, KEYS)
    raise FaunaError("invalid token", "Token metadata is not accessible.", pos)


@form("has_current_token")
def _has_current_token(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return ev.auth.token_id is not None or ev.auth.key_id is not None
