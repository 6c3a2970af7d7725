"""JWTs the core signs for other services, as supertokens-python's JWT recipe: ``asyncio.create_jwt`` and
``syncio.create_jwt`` (one core call), ``get_jwks``. The SDK serves the keys at ``{api_base_path}/jwt/jwks.json``
whatever recipes are configured (see ``gatepass.recipe.session.jwts``); nothing to add to ``recipe_list``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from gatepass.recipe.instance import Gatepass, get_instance
from gatepass.recipe.session import jwts
from gatepass.recipe.session.steps import Flow

__all__ = ["CreateJwtOkResult", "GetJWKSResult"]


@dataclass(frozen=True)
class CreateJwtOkResult:
    """``create_jwt``'s answer: the signed JWT (upstream's name and shape)."""

    jwt: str = field(repr=False)  # a bearer credential
    status: Literal["OK"] = "OK"


@dataclass(frozen=True)
class GetJWKSResult:
    """``get_jwks``'s answer: the public keys and how many seconds they may be cached (upstream's shape)."""

    keys: list[dict[str, Any]]
    validity_in_secs: int


def create_jwt_flow(
    gatepass: Gatepass | None,
    payload: dict[str, Any],
    validity_seconds: int | None,
    use_static_signing_key: bool | None,
    issuer: str | None,
) -> tuple[Gatepass, Flow[str]]:
    """The instance to run with, and the flow that signs (shared by the asyncio, syncio and openid helpers)."""
    gp = gatepass or get_instance()
    app_info = gp.session.config.app_info
    return gp, jwts.create_jwt(app_info, payload, validity_seconds, use_static_signing_key, issuer=issuer)


def jwks_of(gatepass: Gatepass | None) -> GetJWKSResult:
    """The keys the SDK publishes (blocking: it may reload them from the core)."""
    gp = gatepass or get_instance()
    keys, remaining_ms = gp.session.jwks.published(jwts.JWKS_MAX_AGE_MS)
    return GetJWKSResult(keys, remaining_ms // 1000)
