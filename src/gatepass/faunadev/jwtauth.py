"""Logging in with an access provider's JWT, in two steps around the store's lock.

``verify_jwt`` runs before the query's transaction: it takes the token apart, applies Fauna's basic validations
(algorithm, ``exp``, ``nbf`` at the store's clock), checks the audience names this server's database, finds the
provider by ``iss`` (a short read under the lock), gets the key from the JWKS cache (a download, if one is due,
happens outside the lock) and checks the signature. ``jwt_auth`` runs inside the transaction: the provider must
still be there with the same ``jwks_uri``, and the caller gets the provider's roles whose predicates hold for the
claims (``fauna/faunadb`` ``ext/model/.../auth/JWTToken.scala``); none means no access. Every refusal is a reason
(for the log, never the token) and, for the caller, Fauna's ``401 unauthorized``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gatepass.faunadev.access import Auth
from gatepass.faunadev.jwks import JwksCache
from gatepass.faunadev.jwt import Jwt, audience_global_id, parse_jwt, time_problem, verify, zbase32_long
from gatepass.faunadev.providers import granted_roles, provider_by_issuer
from gatepass.faunadev.store import Store, Transaction
from gatepass.faunadev.values import Lambda

Holds = Callable[[Lambda, dict[str, Any]], bool]


@dataclass(frozen=True)
class VerifiedJwt:
    """A JWT whose signature a provider's key checked: the token, the provider's name and its ``jwks_uri``."""

    jwt: Jwt
    provider: str
    jwks_uri: str


def verify_jwt(store: Store, cache: JwksCache, token: str) -> VerifiedJwt | str:
    """The verified token, or why it is refused."""
    jwt = parse_jwt(token)
    if jwt is None:
        return "malformed"
    problem = time_problem(jwt, store.now_us() // 1_000_000)
    if problem is not None:
        return problem
    if audience_global_id(jwt.claims) != zbase32_long(store.global_id):
        return "the audience is not this database"
    issuer = jwt.issuer
    if issuer is None:
        return "no issuer"
    with store.reading() as tx:
        found = provider_by_issuer(tx.rows("access_providers"), issuer)
    if found is None:
        return "no access provider has this issuer"
    name, record = found
    key = cache.key_for(record["jwks_uri"], jwt.kid)
    if key is None:
        return "no key for this kid (or the JWKS is unavailable)"
    if not verify(jwt, key):
        return "bad signature, or an algorithm the key does not allow"
    return VerifiedJwt(jwt, name, record["jwks_uri"])


def jwt_auth(tx: Transaction, verified: VerifiedJwt, holds_for: Callable[[Auth], Holds]) -> Auth | str:
    """The caller behind a verified JWT, in the query's transaction, or why it is refused. ``holds_for(auth)``
    evaluates a role predicate over the claims for that caller (``CurrentToken()`` in it is the claims)."""
    jwt = verified.jwt
    found = provider_by_issuer(tx.rows("access_providers"), jwt.issuer or "")
    if found is None or found[1].get("jwks_uri") != verified.jwks_uri:
        return "the access provider is gone or changed"
    if time_problem(jwt, tx.ts_us // 1_000_000) is not None:
        return "expired"
    bare = Auth("jwt", claims=jwt.claims)
    roles = granted_roles(tx, found[1], jwt.claims, holds_for(bare))
    if not roles:
        return "no role of the access provider is granted"
    return Auth("jwt", custom_roles=roles, claims=jwt.claims)
