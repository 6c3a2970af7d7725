"""Document, schema and authentication forms, and the rights check every read and write goes through.

Engine rules kept: ids are 64-bit numbers; a record with a ``ttl`` in the past is gone (404, absent from sets); a
token authenticates only while it and its identity document are live; ``Update`` merges ``data`` deeply (``null``
removes a key); unique indexes are enforced at write time; creating tokens, ``Login``, ``Identify`` and
``KeyFromSecret`` need a server or admin key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gatepass.faunadev import secrets
from gatepass.faunadev.errors import FaunaError, invalid_argument, not_found, permission_denied
from gatepass.faunadev.limits import MAX_STORED_MEMBERS, LimitExceeded, value_problem
from gatepass.faunadev.sets import index_entries, paginate, sort_key
from gatepass.faunadev.values import (
    COLLECTIONS,
    CREDENTIALS,
    INDEXES,
    KEYS,
    NATIVE_COLLECTIONS,
    ROLES,
    TOKENS,
    Lambda,
    Ref,
    SetRef,
    Time,
    collection_ref,
    native,
)

if TYPE_CHECKING:
    from gatepass.faunadev.evaluator import Evaluator
    from gatepass.faunadev.forms import Env, Handler, Pos

MAX_ID = 2**63 - 1
DEFAULT_PAGE = 64
MAX_PAGE = 100_000
PASSWORD_UNITS = 1_000  # a PBKDF2 hash costs the time of about this many function calls
RESERVED_NAMES = {"events", "set", "self", "documents", "_", "collections", "indexes", "tokens", "keys", "roles"}


# refs ---------------------------------------------------------------------------------------------------------------
def collection_ref_for(ev: Evaluator, name: str, pos: Pos) -> Ref:
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


def put(ev: Evaluator, table: str, key: Any, record: dict[str, Any], pos: Pos) -> None:
    """Write a record, if it nests no deeper than a JSON answer (and the snapshot) may, and is not huge."""
    problem = value_problem(record, ev.budget, max_members=MAX_STORED_MEMBERS)
    if problem is not None:
        raise invalid_argument(pos, problem)
    ev.tx.put(table, key, record)


def _schema_ref(ev: Evaluator, kind: str, name: Any, pos: Pos) -> Ref:
    """A schema ref; it may name nothing yet (``Exists(Collection("x"))`` is false), using it then fails."""
    parent = {"collection": COLLECTIONS, "index": INDEXES, "role": ROLES}[kind]
    return Ref(ev.string(name, pos), parent)


# records ---------------------------------------------------------------------------------------------------------
def _live(record: dict[str, Any] | None, ev: Evaluator) -> bool:
    if record is None:
        return False
    ttl = record.get("ttl")
    return ttl is None or ev.tx.now_ns < ttl.nanos


def _record(ev: Evaluator, ref: Ref) -> tuple[str, Any, dict[str, Any] | None]:
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
        return "tokens", ref.id, record if _live(record, ev) and _token_identity_live(ev, record) else None
    if parent == KEYS:
        return "keys", ref.id, ev.tx.get("keys", ref.id)
    if parent.collection == COLLECTIONS:
        record = ev.tx.get("documents", (parent.id, ref.id))
        return "documents", (parent.id, ref.id), record if _live(record, ev) else None
    return "unknown", None, None


def _token_identity_live(ev: Evaluator, record: dict[str, Any] | None) -> bool:
    if record is None:
        return False
    instance: Ref = record["instance"]
    if instance.collection is None:
        return False
    return _live(ev.tx.get("documents", (instance.collection.id, instance.id)), ev)


def document_view(ref: Ref, table: str, record: dict[str, Any], *, secret: str | None = None) -> dict[str, Any]:
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
    if table == "roles":
        view = {"ref": ref, "ts": record["ts"], "name": ref.id, "privileges": record.get("privileges", [])}
        if record.get("membership"):
            view["membership"] = record["membership"]
        return view
    return {"ref": ref, "ts": record.get("ts", 0)}


# rights ----------------------------------------------------------------------------------------------------------
def _roles_for(ev: Evaluator) -> list[dict[str, Any]]:
    auth = ev.auth
    roles = [ev.tx.get("roles", name) for name in auth.custom_roles]
    found = [r for r in roles if r is not None]
    identity = auth.identity
    if auth.kind == "token" and identity is not None and identity.collection is not None:
        for record in ev.tx.rows("roles").values():
            for member in record.get("membership", []):
                if member.get("resource") == identity.collection:
                    predicate = member.get("predicate")
                    if predicate is None or _predicate(ev, predicate, [identity]):
                        found.append(record)
                        break
    return found


def _predicate(ev: Evaluator, fn: Any, args: list[Any]) -> bool:
    from gatepass.faunadev.evaluator import Evaluator

    if isinstance(fn, bool):
        return fn
    if not isinstance(fn, Lambda):
        return False
    # predicates read without re-checking rights, on the query's own budget
    inner = Evaluator(ev.tx, ev.auth, unrestricted=True, budget=ev.budget)
    try:
        return inner.apply(fn, args, []) is True
    except LimitExceeded:
        raise
    except FaunaError:
        return False


def allowed(ev: Evaluator, action: str, resource: Ref, args: list[Any]) -> bool:
    auth = ev.auth
    if ev.unrestricted:
        return True
    if auth.kind == "server-readonly":
        return action == "read"
    if auth.kind == "token" and resource == TOKENS and action in ("read", "delete") and args:
        record = ev.tx.get("tokens", args[0].id) if isinstance(args[0], Ref) else None
        if record is not None and record["instance"] == auth.identity:
            return True
    if auth.kind == "token" and resource == CREDENTIALS and action == "read":
        return True
    for role in _roles_for(ev):
        for privilege in role.get("privileges", []):
            if privilege.get("resource") != resource:
                continue
            actions = privilege.get("actions", {})
            if action in actions and _predicate(ev, actions[action], args):
                return True
    return False


def check(ev: Evaluator, action: str, resource: Ref, args: list[Any], pos: Pos) -> None:
    if not allowed(ev, action, resource, args):
        raise permission_denied(pos)


def _require_server(ev: Evaluator, pos: Pos) -> None:
    if not ev.unrestricted:
        raise permission_denied(pos)


def _resource_of(ref: Ref) -> Ref:
    return ref.collection if ref.collection is not None else ref


# sets ------------------------------------------------------------------------------------------------------------
def _documents_of(ev: Evaluator, collection: Ref) -> list[dict[str, Any]]:
    """Live records of a collection (user or native) as document views."""
    if collection == TOKENS:
        rows = ev.tx.rows("tokens")
        return [
            document_view(Ref(key, TOKENS), "tokens", rec, secret=None)
            for key, rec in rows.items()
            if _live(rec, ev) and _token_identity_live(ev, rec)
        ]
    if collection in (KEYS, COLLECTIONS, INDEXES, ROLES):
        table = {KEYS: "keys", COLLECTIONS: "collections", INDEXES: "indexes", ROLES: "roles"}[collection]
        return [document_view(Ref(key, collection), table, rec) for key, rec in ev.tx.rows(table).items()]
    if collection.collection == COLLECTIONS:
        return [
            document_view(Ref(key[1], collection), "documents", rec)
            for key, rec in ev.tx.rows("documents").items()
            if key[0] == collection.id and _live(rec, ev)
        ]
    return []


def set_entries(ev: Evaluator, value: Any, pos: Pos) -> list[tuple[tuple[Any, ...], Any, list[Any]]]:
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
        found = _documents_of(ev, collection)
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
        documents = _documents_of(ev, record["source"])
        ev.budget.charge(1 + len(documents) // 8)
        if wanted is None and term_fields:
            return []
        return index_entries(documents, term_fields, record.get("values", []), wanted)
    raise invalid_argument(pos, "Set expected.")


def _cursor_key(cursor: list[Any]) -> tuple[Any, ...]:
    return tuple(sort_key(c) for c in cursor)


# forms -------------------------------------------------------------------------------------------------------------
def register(form: Callable[..., Callable[[Handler], Handler]]) -> None:  # noqa: C901 - a table of small handlers
    from gatepass.faunadev import pure

    def simple(name: str, *optional: str, required: tuple[str, ...] = ()) -> Callable[[Handler], Handler]:
        return form(name, *optional, required=required)

    @simple("ref", required=("id",))
    def _ref(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
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
            def handler(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
                return _schema_ref(ev, kind, ev.arg(expr, kind, env, pos), pos)

            return handler

        simple(kind, "scope")(make())

    for name in ("collections", "indexes", "tokens", "keys", "credentials", "roles", "databases", "functions"):

        def make_native(name: str = name) -> Handler:
            return lambda ev, expr, env, pos: native(name)

        simple(name)(make_native())

    @simple("documents")
    def _documents(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        collection = ev.arg(expr, "documents", env, pos)
        if not isinstance(collection, Ref):
            raise invalid_argument(pos, "Collection Ref expected.")
        return SetRef({"documents": collection})

    @simple("match", "terms")
    def _match(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        index = ev.arg(expr, "match", env, pos)
        if not isinstance(index, Ref) or index.collection != INDEXES:
            raise invalid_argument(pos, "Index Ref expected.")
        spec: dict[str, Any] = {"match": index}
        if "terms" in expr:
            spec["terms"] = ev.arg(expr, "terms", env, pos)
        return SetRef(spec)

    @simple("paginate", "size", "after", "before", "ts", "events", "sources", "cursor")
    def _paginate(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        entries = set_entries(ev, ev.arg(expr, "paginate", env, pos), [*pos, "paginate"])
        size = ev.arg(expr, "size", env, pos) if "size" in expr else DEFAULT_PAGE
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_PAGE:
            raise invalid_argument([*pos, "size"], f"Integer between 1 and {MAX_PAGE} expected.")
        after = ev.arg(expr, "after", env, pos) if "after" in expr else None
        before = ev.arg(expr, "before", env, pos) if "before" in expr else None
        after = after if after is None or isinstance(after, list) else [after]
        before = before if before is None or isinstance(before, list) else [before]
        pure.comparable(ev, [after, before], [*pos, "paginate"])
        return paginate(entries, size, after, before, _cursor_key)

    def _lookup(ev: Evaluator, target: Any, pos: Pos) -> tuple[Ref, str, Any, dict[str, Any]]:
        if isinstance(target, SetRef):
            entries = set_entries(ev, target, pos)
            if not entries:
                raise not_found(pos, "Set")
            first = entries[0][1]
            target = first if isinstance(first, Ref) else first[-1] if isinstance(first, list) else first
        if not isinstance(target, Ref):
            raise invalid_argument(pos, f"Ref or Set expected, {type(target).__name__} provided.")
        table, key, record = _record(ev, target)
        if record is None or table in ("native", "unknown"):
            raise not_found(pos)
        return target, table, key, record

    @simple("get", "ts")
    def _get(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        ref, table, _, record = _lookup(ev, ev.arg(expr, "get", env, pos), pos)
        check(ev, "read", _resource_of(ref), [ref], pos)
        return document_view(ref, table, record)

    @simple("exists", "ts")
    def _exists(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        target = ev.arg(expr, "exists", env, pos)
        if isinstance(target, SetRef):
            return bool(set_entries(ev, target, pos))
        if not isinstance(target, Ref):
            raise invalid_argument(pos, "Ref expected.")
        check(ev, "read", _resource_of(target), [target], pos)
        table, _, record = _record(ev, target)
        return record is not None and table not in ("native", "unknown")

    @simple("create", "params")
    def _create(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        target = ev.arg(expr, "create", env, pos)
        params = ev.arg(expr, "params", env, pos) if "params" in expr else {}
        if not isinstance(params, dict):
            raise invalid_argument([*pos, "params"], "Object expected.")
        if not isinstance(target, Ref):
            raise invalid_argument(pos, "Ref expected.")
        if target == TOKENS or target.collection == TOKENS:
            return _create_token(ev, params, pos)
        if target in (COLLECTIONS, INDEXES, ROLES, KEYS):
            creator = {COLLECTIONS: _create_collection, INDEXES: _create_index, ROLES: _create_role, KEYS: _create_key}
            return creator[target](ev, params, pos)
        collection = target if target.collection == COLLECTIONS else target.collection
        if collection is None or collection.collection != COLLECTIONS:
            raise invalid_argument(pos, "Collection Ref expected.")
        if ev.tx.get("collections", collection.id) is None:
            raise FaunaError("invalid ref", f"Ref refers to undefined collection '{collection.id}'", pos)
        check(ev, "create", collection, [params], pos)
        doc_id = target.id if target.collection == collection else str(ev.tx.new_id())
        key = (collection.id, doc_id)
        if _live(ev.tx.get("documents", key), ev):
            raise FaunaError("instance already exists", "Document already exists.", pos)
        record = {"ts": ev.tx.ts_us, "data": _data(params, pos), "ttl": _ttl(params, pos)}
        put(ev, "documents", key, record, pos)
        _set_password(ev, key, params, pos)
        _check_unique(ev, collection, pos)
        return document_view(Ref(doc_id, collection), "documents", record)

    @simple("update", "params")
    def _update(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        return _write(
            ev,
            ev.arg(expr, "update", env, pos),
            ev.arg(expr, "params", env, pos) if "params" in expr else {},
            pos,
            merge=True,
        )

    @simple("replace", "params")
    def _replace(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        return _write(
            ev,
            ev.arg(expr, "replace", env, pos),
            ev.arg(expr, "params", env, pos) if "params" in expr else {},
            pos,
            merge=False,
        )

    @simple("delete")
    def _delete(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        ref, table, key, record = _lookup(ev, ev.arg(expr, "delete", env, pos), pos)
        if table in ("collections", "indexes", "roles", "keys"):
            _require_server(ev, pos)
        else:
            check(ev, "delete", _resource_of(ref), [ref], pos)
        view = document_view(ref, table, record)
        ev.tx.remove(table, key)
        if table == "documents":
            ev.tx.remove("credentials", key)
        if table == "collections":
            for doc_key in [k for k in ev.tx.rows("documents") if k[0] == ref.id]:
                ev.tx.remove("documents", doc_key)
                ev.tx.remove("credentials", doc_key)
        return view

    @simple("create_collection")
    def _create_collection_form(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        return _create_collection(ev, ev.arg(expr, "create_collection", env, pos), pos)

    @simple("create_index")
    def _create_index_form(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        return _create_index(ev, ev.arg(expr, "create_index", env, pos), pos)

    @simple("create_role")
    def _create_role_form(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        return _create_role(ev, ev.arg(expr, "create_role", env, pos), pos)

    @simple("create_key")
    def _create_key_form(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        return _create_key(ev, ev.arg(expr, "create_key", env, pos), pos)

    @simple("key_from_secret")
    def _key_from_secret(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        _require_server(ev, pos)
        secret = ev.string(ev.arg(expr, "key_from_secret", env, pos), pos)
        parsed = secrets.parse_secret(secret)
        table = "tokens" if parsed is not None and parsed.kind == "token" else "keys"
        if parsed is not None:
            ref = Ref(str(parsed.id), TOKENS if table == "tokens" else KEYS)
            _, _, record = _record(ev, ref)
            if record is not None and secrets.secret_matches(parsed, record["secret_hash"]):
                return document_view(ref, table, record)
        raise not_found(pos, "Key")

    @simple("login", required=("params",))
    def _login(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        _require_server(ev, pos)
        target = ev.arg(expr, "login", env, pos)
        params = ev.arg(expr, "params", env, pos)
        failure = FaunaError(
            "authentication failed", "The document was not found or provided password was incorrect.", pos
        )
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
        return _create_token(ev, token_params, pos, checked=True)

    @simple("identify", required=("password",))
    def _identify(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        _require_server(ev, pos)
        target = ev.arg(expr, "identify", env, pos)
        password = ev.arg(expr, "password", env, pos)
        if not isinstance(target, Ref) or target.collection is None:
            return False
        table, key, record = _record(ev, target)
        stored = ev.tx.get("credentials", key) if table == "documents" and record is not None else None
        ev.budget.charge(PASSWORD_UNITS)
        return bool(stored and isinstance(password, str) and secrets.password_matches(password, stored["hash"]))

    @simple("logout")
    def _logout(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
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

    def _identity(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        if ev.auth.identity is None:
            raise FaunaError("missing identity", "Authentication does not contain an identity", pos)
        return ev.auth.identity

    simple("current_identity")(_identity)
    simple("identity")(_identity)

    @simple("has_current_identity")
    def _has_identity(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        return ev.auth.identity is not None

    simple("has_identity")(_has_identity)

    @simple("current_token")
    def _current_token(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        auth = ev.auth
        if auth.token_id is not None:
            return Ref(auth.token_id, TOKENS)
        if auth.key_id is not None:
            return Ref(auth.key_id, KEYS)
        raise FaunaError("invalid token", "Token metadata is not accessible.", pos)

    @simple("has_current_token")
    def _has_current_token(ev: Evaluator, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        return ev.auth.token_id is not None or ev.auth.key_id is not None


# writes ----------------------------------------------------------------------------------------------------------
def _data(params: dict[str, Any], pos: Pos) -> dict[str, Any]:
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


def _ttl(params: dict[str, Any], pos: Pos) -> Time | None:
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


def _set_password(ev: Evaluator, key: tuple[str, str], params: dict[str, Any], pos: Pos) -> None:
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


def _write(ev: Evaluator, target: Any, params: Any, pos: Pos, *, merge: bool) -> Any:
    if not isinstance(params, dict):
        raise invalid_argument([*pos, "params"], "Object expected.")
    if not isinstance(target, Ref):
        raise invalid_argument(pos, "Ref expected.")
    table, key, record = _record(ev, target)
    if record is None:
        raise not_found(pos)
    if table in ("native", "unknown"):
        raise invalid_argument(pos, "Cannot update a schema meta collection.")
    if table in ("collections", "indexes", "roles", "keys"):
        _require_server(ev, pos)
        updated = dict(record)
        updated["data"] = _deep_merge(record.get("data") or {}, _data(params, pos)) if merge else _data(params, pos)
        if table == "roles" and "membership" in params:
            updated["membership"] = _normalise_membership(params["membership"])
        if table == "roles" and "privileges" in params:
            updated["privileges"] = _privileges(params["privileges"], pos)
        updated["ts"] = ev.tx.ts_us
        put(ev, table, key, updated, pos)
        return document_view(target, table, updated)
    old_view = document_view(target, table, record)
    data = _deep_merge(record.get("data") or {}, _data(params, pos)) if merge else _data(params, pos)
    updated = {**record, "data": data, "ts": ev.tx.ts_us}
    if "ttl" in params:
        updated["ttl"] = _ttl(params, pos)
    new_view = document_view(target, table, updated)
    # as in Fauna, the write predicate sees the credentials being set (they are stored apart, never returned)
    seen_view = {**new_view, "credentials": params["credentials"]} if "credentials" in params else new_view
    check(ev, "write", _resource_of(target), [old_view, seen_view, target], pos)
    put(ev, table, key, updated, pos)
    if table == "documents":
        _set_password(ev, key, params, pos)
        _check_unique(ev, target.collection, pos)
    return new_view


def _create_token(ev: Evaluator, params: dict[str, Any], pos: Pos, *, checked: bool = False) -> Any:
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
    _, _, identity = _record(ev, instance)
    if identity is None or instance.collection is None or instance.collection.collection != COLLECTIONS:
        raise not_found(pos)
    token_id = ev.tx.new_id()
    secret, secret_hash = secrets.new_secret("token", token_id)
    record = {
        "ts": ev.tx.ts_us,
        "instance": instance,
        "ttl": _ttl(params, pos),
        "data": _data(params, pos),
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


def _create_collection(ev: Evaluator, params: Any, pos: Pos) -> Any:
    _require_server(ev, pos)
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


def _create_index(ev: Evaluator, params: Any, pos: Pos) -> Any:
    _require_server(ev, pos)
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
        _check_unique(ev, source, pos)
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


def _create_role(ev: Evaluator, params: Any, pos: Pos) -> Any:
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


def _create_key(ev: Evaluator, params: Any, pos: Pos) -> Any:
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


def _check_unique(ev: Evaluator, collection: Ref | None, pos: Pos) -> None:
    """Unique indexes over ``collection`` must not hold two live documents with the same terms and values."""
    from gatepass.faunadev.sets import field_value
    from gatepass.faunadev.values import encode

    if collection is None:
        return
    for index in ev.tx.rows("indexes").values():
        if not index.get("unique") or index["source"] != collection:
            continue
        paths = [t["field"] for t in index.get("terms", [])] + [v["field"] for v in index.get("values", [])]
        seen: set[str] = set()
        views = _documents_of(ev, collection)
        ev.budget.charge(1 + len(views) // 4)
        for view in views:
            signature = repr(encode([field_value(view, path) for path in paths]))
            if signature in seen:
                raise FaunaError("instance not unique", "document is not unique.", pos)
            seen.add(signature)
