"""gatepass JWTs as Fauna credentials: Fauna (FQL v4) trusts an AccessProvider registered with
``CreateAccessProvider({name, issuer, jwks_uri, roles})``, and accepts as a secret any JWT that provider's keys
signed with its ``issuer`` as ``iss`` and the database's ``audience`` as ``aud``; the JWT's ``sub`` is then
``CurrentIdentity()`` and the provider's roles (their predicates see the JWT's claims) decide what it may do.

Here the core signs that JWT (RS256, its static key, published at ``{api_base_path}/jwt/jwks.json``, the
``jwks_uri`` to register) with ``sub`` = the session's user id and ``exp`` in [the access token's expiry, expiry + lag]
(whole seconds: the second before expiry + lag, see ``_validity_s``). So a
login or a refresh costs no Fauna round trip (one core call signs), and users may live anywhere: Fauna holds no
document for them. A JWT cannot be revoked: it lives until ``exp``, which is why it is no longer-lived than the
access token (+ lag). A refresh puts a new one in the payload; the one it replaces, and the last one of a session
that signed out, stay valid until their ``exp``.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from gatepass.errors import ConfigurationError
from gatepass.recipe.app_info import AppInfo
from gatepass.recipe.session import jwts
from gatepass.recipe.session.faunadb.credentials import SessionFacts
from gatepass.recipe.session.faunadb.fauna_calls import MintedToken
from gatepass.recipe.session.steps import Blocking, Flow
from gatepass.untrusted import value_problem

JwtClaims = Callable[[str], Mapping[str, Any]]
OWN_CLAIMS = frozenset(
    {"iss", "aud", "sub", "iat", "exp", "nbf", "jti"}
)  # set here or by the core, never by jwt_claims
MAX_USER_ID_CHARS = 128  # the core's own limit on user ids


class AccessProviderJwts:
    """Fauna credentials that are JWTs for one AccessProvider (the module docstring says how)."""

    revocable = False

    def __init__(self, audience: str, issuer: str | None, claims: JwtClaims | None) -> None:
        self.audience = audience
        self.issuer = issuer  # None: the app's OpenID issuer, known once the recipe is built (``bind``)
        self.claims = claims
        self._clock: Callable[[], int] = lambda: 0
        self._app_info: AppInfo | None = None

    def __repr__(self) -> str:
        return f"AccessProviderJwts(audience={self.audience!r}, issuer={self.issuer!r})"

    def bind(self, app_info: AppInfo, clock: Callable[[], int]) -> None:
        """Take the app's domain (and issuer, unless one was given) and the recipe's clock."""
        self._app_info = app_info
        self._clock = clock
        if self.issuer is None:
            self.issuer = app_info.issuer

    def check_user(self, user_id: str) -> None:
        """Any user id the core stores is a ``sub``: 1 to 128 characters, no NUL, no lone surrogate."""
        if not user_id or len(user_id) > MAX_USER_ID_CHARS or "\x00" in user_id or value_problem(user_id):
            raise ConfigurationError(
                f"a user id for a Fauna JWT must have 1 to {MAX_USER_ID_CHARS} characters, no NUL and no lone surrogate"
            )

    def check_setup(self) -> Flow[None]:
        """Nothing to ask Fauna: it checks the JWT when the JWT is used."""
        return None
        yield  # a flow, like every step of the integration

    def mint(self, state: SessionFacts, old_ref: str | None, expires_at_ms: int) -> Flow[MintedToken]:
        """One core call: the JWT for ``state``'s user, expiring by ``expires_at_ms`` (see ``_validity_s``)."""
        if self._app_info is None:
            raise ConfigurationError("the Fauna AccessProvider credentials are not bound to a recipe")
        extra: dict[str, Any] = {}
        if self.claims is not None:
            claims_of = self.claims
            extra = yield Blocking(lambda: _checked_claims(claims_of(state.user_id)))
        # jti: each JWT its own, even two minted in the same second for the same session (a refresh right away)
        payload = {**extra, "aud": self.audience, "sub": state.user_id, "jti": secrets.token_urlsafe(12)}
        validity_s = _validity_s(state.access_token_expiry_ms, expires_at_ms, self._clock())
        jwt = yield from jwts.create_jwt(self._app_info, payload, validity_s, True, issuer=self.issuer)
        return MintedToken(secret=jwt, ref_id=None)

    def delete(self, refs: list[str]) -> Flow[None]:
        """Nothing to delete: a JWT lives until its ``exp``."""
        return None
        yield  # a flow, like every step of the integration


def _validity_s(access_expiry_ms: int, expires_at_ms: int, now_ms: int) -> int:
    """The ``validity`` to ask the core for. ``exp`` is whole seconds, the core's second + validity, and the core's
    second may tick between our clock's reading and its signing: aim one second under the latest allowed
    (``expires_at_ms``, expiry + lag) so either way ``exp`` lands in [expiry, expiry + lag]. With a lag under two
    seconds there is no room for that: liveness wins, and ``exp`` is the expiry's second, or the one after."""
    earliest, latest = math.ceil(access_expiry_ms / 1000), expires_at_ms // 1000
    exp_s = latest - 1 if latest - 1 >= earliest else earliest
    return max(1, exp_s - now_ms // 1000)


def _checked_claims(claims: object) -> dict[str, Any]:
    if not isinstance(claims, Mapping) or not all(isinstance(k, str) for k in claims):
        raise ConfigurationError("jwt_claims must return a dict of claims")
    taken = sorted(OWN_CLAIMS.intersection(claims))
    if taken:
        raise ConfigurationError(f"jwt_claims must not set {', '.join(taken)}: the integration sets them")
    return dict(claims)
