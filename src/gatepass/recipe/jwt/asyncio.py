"""The JWT recipe for asynchronous code (upstream's ``supertokens_python.recipe.jwt.asyncio``)."""

from __future__ import annotations

from typing import Any

import anyio.to_thread

from gatepass.recipe.instance import Gatepass
from gatepass.recipe.jwt import CreateJwtOkResult, GetJWKSResult, create_jwt_flow, jwks_of
from gatepass.recipe.session.steps import run_async


async def create_jwt(
    payload: dict[str, Any],
    validity_seconds: int | None = None,
    use_static_signing_key: bool | None = None,
    user_context: dict[str, Any] | None = None,
    *,
    gatepass: Gatepass | None = None,
) -> CreateJwtOkResult:
    """A JWT of ``payload`` signed by the core (static key unless ``use_static_signing_key`` is ``False``;
    ``validity_seconds`` defaults to upstream's century: pass a short one); ``iss`` is the API domain unless the
    payload has one (``openid.asyncio.create_jwt`` sets the OpenID issuer)."""
    gp, flow = create_jwt_flow(gatepass, payload, validity_seconds, use_static_signing_key, None)
    return CreateJwtOkResult(await run_async(flow, gp.session))


async def get_jwks(user_context: dict[str, Any] | None = None, *, gatepass: Gatepass | None = None) -> GetJWKSResult:
    """The public keys the SDK serves at ``{api_base_path}/jwt/jwks.json``."""
    result: GetJWKSResult = await anyio.to_thread.run_sync(jwks_of, gatepass)
    return result
