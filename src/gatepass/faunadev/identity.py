"""Passwords, tokens and identity: ``Login``, ``Identify``, ``Logout``, ``KeyFromSecret``, ``CurrentIdentity``,
``HasCurrentIdentity``, ``CurrentToken``, ``HasCurrentToken``, and the token that ``Create(Tokens(), ...)`` makes.
For a JWT caller, the identity is the ``sub`` claim and the token is the claims object, as in Fauna.

Engine rules kept: creating tokens, ``Login``, ``Identify`` and ``KeyFromSecret`` need a server or admin key (or,
for tokens, the ``create`` privilege on ``Tokens()``); ``Login`` fails the same way for a missing document and a
wrong password; a new token's secret is in its creation's answer only. Passwords are hashed, never stored, and
hashing is charged to the query's budget.
"""

from __future__ import annotations

from typing import Any

from gatepass.faunadev import secrets
from gatepass.faunadev.access import Auth
from gatepass.faunadev.errors import FaunaError, not_found, permission_denied, validation_failed
from gatepass.faunadev.forms import Env, Evaluation, Pos, form
from gatepass.faunadev.limits import LimitExceeded
from gatepass.faunadev.records import document_data, document_view, lookup, put, record_of, ttl_of
from gatepass.faunadev.rights import allowed, require_server
from gatepass.faunadev.values import COLLECTIONS, KEYS, TOKENS, Ref

PASSWORD_UNITS = 1_000  # a PBKDF2 hash costs the time of about this many function calls


def set_password(ev: Evaluation, key: tuple[str, str], params: dict[str, Any], pos: Pos) -> None:
    """Store the hash of ``credentials.password`` for a document, if the parameters set one."""
    credentials = params.get("credentials")
    if credentials is None:
        return
    password = credentials.get("password") if isinstance(credentials, dict) else None
    if not isinstance(password, str) or not password:
        raise validation_failed(["credentials", "password"], "Invalid type, expected String.", pos)
    ev.budget.charge(PASSWORD_UNITS)
    put(ev, "credentials", key, {"hash": secrets.hash_password(password)}, pos)


def create_token(ev: Evaluation, params: dict[str, Any], pos: Pos, *, checked: bool = False) -> Any:
    """A new token for ``params.instance``; its secret is shown once, in this answer."""
    if not checked and not allowed(ev, "create", TOKENS, [params]):
        raise permission_denied(pos)
    instance = params.get("instance")
    if not isinstance(instance, Ref):
        raise validation_failed(["instance"], "Value required.", pos, code="value required")
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


def _password_matches(ev: Evaluation, stored: dict[str, Any] | None, password: Any) -> bool:
    ev.budget.charge(PASSWORD_UNITS)
    return stored is not None and isinstance(password, str) and secrets.password_matches(password, stored["hash"])


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
        ref, table, key, _ = lookup(ev, target, pos)
    except LimitExceeded:
        raise
    except FaunaError as exc:
        # the caller sees only ``failure``'s wire body, the same for a missing document and a wrong password; the
        # cause (which document, or why the ref was refused) holds nothing secret and stays server-side
        raise failure from exc
    stored = ev.tx.get("credentials", key) if table == "documents" else None
    password = params.get("password") if isinstance(params, dict) else None
    if not _password_matches(ev, stored, password):
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
    return _password_matches(ev, stored, password)


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


def identity_of(auth: Auth) -> Any:
    """The caller's identity: a token's document, or a JWT's ``sub`` claim (``CurrentIdentityFunction``); None
    when there is none."""
    if auth.kind == "jwt":
        return (auth.claims or {}).get("sub")
    return auth.identity


@form("identity")
@form("current_identity")
def _current_identity(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    identity = identity_of(ev.auth)
    if identity is None:
        raise FaunaError("missing identity", "Authentication does not contain an identity", pos)
    return identity


@form("has_identity")
@form("has_current_identity")
def _has_current_identity(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return identity_of(ev.auth) is not None


@form("current_token")
def _current_token(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    auth = ev.auth
    if auth.kind == "jwt":  # a JWT caller's token is its claims (``CurrentTokenFunction``)
        return dict(auth.claims or {})
    if auth.token_id is not None:
        return Ref(auth.token_id, TOKENS)
    if auth.key_id is not None:
        return Ref(auth.key_id, KEYS)
    raise FaunaError("invalid token", "Token metadata is not accessible.", pos)


@form("has_current_token")
def _has_current_token(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return ev.auth.kind == "jwt" or ev.auth.token_id is not None or ev.auth.key_id is not None
