"""Access providers: ``AccessProvider``, ``AccessProviders``, ``CreateAccessProvider`` (also ``Create`` on
``AccessProviders()``), and their ``Update``, ``Replace`` and ``Delete``; and the roles a provider's JWT gets.

Engine rules kept (``fauna/faunadb``: ``ext/model/.../doc/AccessProvider.scala``, ``WriteAdaptor``
``AccessProviderWriteConfig``, ``IOConfig`` ``AccessProviderIOConfig``, ``auth/Permissions.scala``): admin keys only,
for reads too; ``name``, ``issuer`` and ``jwks_uri`` are required; ``jwks_uri`` must be an ``https`` URL (here
``http`` to a loopback host is allowed too, for development); no two providers share an issuer; ``roles`` is
optional: one item or an array of them, each a role (ref or name, never a built-in role) or ``{role, predicate}``
with a predicate lambda; ``audience`` is written by the server (``https://db.fauna.com/db/<global id>``) and can
be neither set nor changed; ``Replace`` keeps ``name``, ``issuer``, ``jwks_uri`` and ``roles`` unless given; a
missing provider is "other not found." and a taken name "other already exists." as Fauna words them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gatepass.faunadev.access import BUILTIN_ROLES
from gatepass.faunadev.errors import FaunaError
from gatepass.faunadev.forms import Env, Evaluation, Pos, form, type_name
from gatepass.faunadev.jwks import jwks_uri_allowed
from gatepass.faunadev.jwt import audience_for
from gatepass.faunadev.records import deep_merge, document_data, provider_view, put
from gatepass.faunadev.rights import require_admin
from gatepass.faunadev.store import Transaction
from gatepass.faunadev.values import ACCESS_PROVIDERS, ROLES, Lambda, Ref, native

FIELDS = ("name", "issuer", "jwks_uri", "roles", "data")
RESERVED_NAMES = {"events", "set", "self", "documents", "_"}


@form("access_provider", "scope")
def _access_provider(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return Ref(ev.string(ev.arg(expr, "access_provider", env, pos), pos), ACCESS_PROVIDERS)


@form("access_providers")
def _access_providers(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return native("access_providers")


@form("create_access_provider")
def _create_access_provider(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    at = [*pos, "create_access_provider"]
    return create_access_provider(ev, ev.object(ev.arg(expr, "create_access_provider", env, pos), at), at)


# validation --------------------------------------------------------------------------------------------------------
def _failure(field: list[Any], code: str, description: str) -> dict[str, Any]:
    return {"field": field, "code": code, "description": description}


def _invalid_type(field: list[Any], value: Any, expected: str) -> dict[str, Any]:
    return _failure(field, "invalid type", f"Invalid type {type_name(value)}, expected type {expected}.")


def _role_item(ev: Evaluation, item: Any, path: list[Any], failures: list[dict[str, Any]]) -> None:
    role, predicate = (item.get("role"), item.get("predicate")) if isinstance(item, dict) else (item, None)
    if isinstance(item, dict):
        if predicate is None:
            failures.append(_failure(["predicate"], "value required", "Required value not found."))
        elif not isinstance(predicate, Lambda):
            failures.append(_invalid_type([*path, "predicate"], predicate, "Query"))
        if role is None:
            failures.append(_failure(["role"], "value required", "Required value not found."))
            return
    if isinstance(role, Ref) and role.collection == ROLES:
        if ev.tx.get("roles", role.id) is None:
            failures.append(_failure(path, "invalid reference", "Reference was not found."))
    elif isinstance(role, str):
        if role in BUILTIN_ROLES:
            failures.append(_failure(["roles"], "validation failure", f"Builtin role `{role[:64]}` not allowed."))
        elif ev.tx.get("roles", role) is None:
            failures.append(_failure(["roles"], "validation failure", f"Role `{role[:64]}` does not exist."))
    else:
        failures.append(_invalid_type(path, role, "Role"))


def _roles_failures(ev: Evaluation, roles: Any) -> list[dict[str, Any]]:
    failures: list[dict[str, Any]] = []
    if roles is None:
        return failures
    items = roles if isinstance(roles, list) else [roles]
    ev.budget.charge(1 + len(items))
    for i, item in enumerate(items):
        _role_item(ev, item, ["roles", i] if isinstance(roles, list) else ["roles"], failures)
    return failures


def _failures(ev: Evaluation, record: dict[str, Any], own_name: str | None) -> list[dict[str, Any]]:
    failures = [
        _failure([name], "value required", "Required value not found.")
        for name in ("name", "issuer", "jwks_uri")
        if record.get(name) is None
    ]
    for required in ("name", "issuer", "jwks_uri"):
        if record.get(required) is not None and not isinstance(record[required], str):
            failures.append(_invalid_type([required], record[required], "String"))
    name, issuer, uri = record.get("name"), record.get("issuer"), record.get("jwks_uri")
    if isinstance(name, str) and (not name or "/" in name or name in RESERVED_NAMES):
        failures.append(_failure(["name"], "invalid name", "Invalid name."))
    if isinstance(uri, str) and not jwks_uri_allowed(uri):
        failures.append(_failure(["jwks_uri"], "invalid uri", f"`{uri[:256]}` is a not valid URI"))
    if isinstance(issuer, str) and any(
        other.get("issuer") == issuer for key, other in ev.tx.rows("access_providers").items() if key != own_name
    ):
        failures.append(_failure(["issuer"], "duplicate value", "Value is not unique."))
    if record.get("data") is not None and not isinstance(record["data"], dict):
        failures.append(_invalid_type(["data"], record["data"], "Object"))
    return failures + _roles_failures(ev, record.get("roles"))


def _store(ev: Evaluation, record: dict[str, Any], own_name: str | None, pos: Pos) -> dict[str, Any]:
    """Validate and write a provider's record (under its name, moved if renamed); its view."""
    failures = _failures(ev, record, own_name)
    if failures:
        raise FaunaError("validation failed", "document data is not valid.", pos, failures)
    name: str = record["name"]
    if name != own_name and ev.tx.get("access_providers", name) is not None:
        raise FaunaError("instance already exists", "other already exists.", pos)
    stored = {k: record[k] for k in FIELDS if record.get(k) is not None and k != "name"}
    stored.update({"ts": ev.tx.ts_us, "audience": audience_for(ev.tx.store.global_id)})
    if own_name is not None and own_name != name:
        ev.tx.remove("access_providers", own_name)
    put(ev, "access_providers", name, stored, pos)
    return provider_view(Ref(name, ACCESS_PROVIDERS), stored)


# writes ------------------------------------------------------------------------------------------------------------
def create_access_provider(ev: Evaluation, params: dict[str, Any], pos: Pos) -> Any:
    """``CreateAccessProvider``: admin keys only."""
    require_admin(ev, pos)
    return _store(ev, {k: params.get(k) for k in FIELDS}, None, pos)


def write_access_provider(
    ev: Evaluation, name: str, record: dict[str, Any], params: dict[str, Any], pos: Pos, *, merge: bool
) -> Any:
    """``Update`` (fields given replace theirs, ``data`` deep-merges) or ``Replace`` of a provider: admin only."""
    require_admin(ev, pos)
    current = {"name": name, **{k: record.get(k) for k in FIELDS if k != "name"}}
    if merge:
        updated = {**current, **{k: params[k] for k in FIELDS if k in params and k != "data"}}
        if "data" in params:
            given = document_data(params, pos)
            updated["data"] = deep_merge(record.get("data") or {}, given) or None
    else:  # Replace keeps what Fauna's ``prevForReplace`` keeps, and drops ``data`` unless given
        updated = {**{k: current[k] for k in FIELDS if k != "data"}, "data": None}
        updated.update({k: params[k] for k in FIELDS if k in params})
    return _store(ev, updated, name, pos)


# authentication ----------------------------------------------------------------------------------------------------
def provider_by_issuer(rows: dict[Any, dict[str, Any]], issuer: str) -> tuple[str, dict[str, Any]] | None:
    """(name, record) of the provider with this issuer, if any."""
    return next(((name, rec) for name, rec in rows.items() if rec.get("issuer") == issuer), None)


def granted_roles(
    tx: Transaction, record: dict[str, Any], claims: dict[str, Any], holds: Callable[[Lambda, dict[str, Any]], bool]
) -> tuple[str, ...]:
    """The names of the provider's roles a JWT with these claims gets: each role whose predicate (if any) holds
    for the claims (``JWTToken.getRoles``). Roles deleted since are skipped."""
    roles = record.get("roles")
    items = roles if isinstance(roles, list) else [roles] if roles is not None else []
    granted: list[str] = []
    for item in items:
        role, predicate = (item.get("role"), item.get("predicate")) if isinstance(item, dict) else (item, None)
        name = role.id if isinstance(role, Ref) else role if isinstance(role, str) else None
        if name is None or tx.get("roles", name) is None or name in granted:
            continue
        if predicate is None or (isinstance(predicate, Lambda) and holds(predicate, claims)):
            granted.append(name)
    return tuple(granted)
