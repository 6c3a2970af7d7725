"""Who is asking, and what they may do: the root key, keys with a built-in or custom role, tokens (whose
identity is a document), and JWTs of an access provider (whose claims stand for the identity, and whose roles are
the provider's roles that their predicates grant). Roles grant actions on resources, as booleans or predicate
lambdas; a token without a role has only Fauna's baseline rights (its identity's own tokens, identity functions,
``Logout``, pure functions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from gatepass.faunadev.values import Ref

AuthKind = Literal["admin", "server", "server-readonly", "client", "token", "custom", "jwt"]
BUILTIN_ROLES = ("admin", "server", "server-readonly", "client")


@dataclass(frozen=True)
class Auth:
    """Who is asking: the kind of key or token, its id, a token's identity, a custom key's (or a JWT's) roles,
    and a JWT's claims."""

    kind: AuthKind
    is_root: bool = False
    key_id: str | None = None
    token_id: str | None = None
    identity: Ref | None = None
    custom_roles: tuple[str, ...] = field(default=())
    claims: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def unrestricted(self) -> bool:
        """Admin and server keys read and write without rights checks."""
        return self.kind in ("admin", "server")

    @property
    def can_manage_keys(self) -> bool:
        """Only admin keys create roles and keys."""
        return self.kind == "admin"


ROOT = Auth("admin", is_root=True)
