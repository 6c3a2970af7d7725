"""The rights check every read and write goes through.

Engine rules kept: admin and server keys may do anything, server-readonly keys may read; a token may read and
delete its identity's own tokens and read credentials; beyond that, a caller has the privileges of its key's
custom role (or, for a JWT, of its access provider's roles that it was granted) and of every role whose membership
takes in its identity's collection (subject to the membership's predicate); access providers are admin-only. A
privilege grants an action as a boolean or as a predicate lambda, which runs with read rights of its own on the
query's budget; a predicate that fails refuses, a limit it reaches ends the query.
"""

from __future__ import annotations

from typing import Any

from gatepass.faunadev.errors import FaunaError, permission_denied
from gatepass.faunadev.forms import Evaluation, Pos
from gatepass.faunadev.limits import LimitExceeded
from gatepass.faunadev.values import ACCESS_PROVIDERS, CREDENTIALS, TOKENS, Lambda, Ref


def _roles_for(ev: Evaluation) -> list[dict[str, Any]]:
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


def _predicate(ev: Evaluation, fn: Any, args: list[Any]) -> bool:
    if isinstance(fn, bool):
        return fn
    if not isinstance(fn, Lambda):
        return False
    try:
        return ev.unchecked().apply(fn, args, []) is True
    except LimitExceeded:
        raise
    except FaunaError:
        return False


def allowed(ev: Evaluation, action: str, resource: Ref, args: list[Any]) -> bool:
    """Whether the caller may take ``action`` on ``resource`` (predicates receive ``args``)."""
    auth = ev.auth
    if resource == ACCESS_PROVIDERS:  # as keys and roles in Fauna: admin only (``AbstractServerPermissions``)
        return auth.can_manage_keys
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


def check(ev: Evaluation, action: str, resource: Ref, args: list[Any], pos: Pos) -> None:
    """``allowed``, or ``permission denied``."""
    if not allowed(ev, action, resource, args):
        raise permission_denied(pos)


def require_server(ev: Evaluation, pos: Pos) -> None:
    """Refuse callers without a server or admin key."""
    if not ev.unrestricted:
        raise permission_denied(pos)


def require_admin(ev: Evaluation, pos: Pos) -> None:
    """Refuse callers without an admin key."""
    if not ev.auth.can_manage_keys:
        raise permission_denied(pos)


def resource_of(ref: Ref) -> Ref:
    """The resource whose privileges govern a ref (its collection, or the ref itself)."""
    return ref.collection if ref.collection is not None else ref
