"""The OpenId recipe for asynchronous code (upstream's ``supertokens_python.recipe.openid.asyncio``)."""

from __future__ import annotations

from typing import Any

from gatepass.recipe.instance import Gatepass
from gatepass.recipe.jwt import CreateJwtOkResult, create_jwt_flow
from gatepass.recipe.openid import GetOpenIdDiscoveryConfigurationResult, discovery_of
from gatepass.recipe.session.steps import run_async


async def get_open_id_discovery_configuration(
    user_context: dict[str, Any] | None = None, *, gatepass: Gatepass | None = None
) -> GetOpenIdDiscoveryConfigurationResult:
    """The issuer and ``jwks_uri`` the SDK publishes."""
    return discovery_of(gatepass)


async def create_jwt(
    payload: dict[str, Any],
    validity_seconds: int | None = None,
    use_static_signing_key: bool | None = None,
    user_context: dict[str, Any] | None = None,
    *,
    gatepass: Gatepass | None = None,
) -> CreateJwtOkResult:
    """``jwt.asyncio.create_jwt`` with ``iss`` = the discovery issuer (unless the payload has its own)."""
    issuer = discovery_of(gatepass).issuer
    gp, flow = create_jwt_flow(gatepass, payload, validity_seconds, use_static_signing_key, issuer)
    return CreateJwtOkResult(await run_async(flow, gp.session))
