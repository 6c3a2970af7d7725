"""The JWT recipe for synchronous code (upstream's ``supertokens_python.recipe.jwt.syncio``)."""

from __future__ import annotations

from typing import Any

from gatepass.recipe.instance import Gatepass
from gatepass.recipe.jwt import CreateJwtOkResult, GetJWKSResult, create_jwt_flow, jwks_of
from gatepass.recipe.session.steps import run_sync


def create_jwt(
    payload: dict[str, Any],
    validity_seconds: int | None = None,
    use_static_signing_key: bool | None = None,
    user_context: dict[str, Any] | None = None,
    *,
    gatepass: Gatepass | None = None,
) -> CreateJwtOkResult:
    """As ``asyncio.create_jwt``, blocking."""
    gp, flow = create_jwt_flow(gatepass, payload, validity_seconds, use_static_signing_key, None)
    return CreateJwtOkResult(run_sync(flow, gp.session))


def get_jwks(user_context: dict[str, Any] | None = None, *, gatepass: Gatepass | None = None) -> GetJWKSResult:
    """As ``asyncio.get_jwks``, blocking."""
    return jwks_of(gatepass)
