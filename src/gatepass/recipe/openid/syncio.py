"""The OpenId recipe for synchronous code (upstream's ``supertokens_python.recipe.openid.syncio``)."""

from __future__ import annotations

from typing import Any

from gatepass.recipe.instance import Gatepass
from gatepass.recipe.jwt import CreateJwtOkResult, create_jwt_flow
from gatepass.recipe.openid import GetOpenIdDiscoveryConfigurationResult, discovery_of
from gatepass.recipe.session.steps import run_sync


def get_open_id_discovery_configuration(
    user_context: dict[str, Any] | None = None, *, gatepass: Gatepass | None = None
) -> GetOpenIdDiscoveryConfigurationResult:
    """As ``asyncio.get_open_id_discovery_configuration``."""
    return discovery_of(gatepass)


def create_jwt(
    payload: dict[str, Any],
    validity_seconds: int | None = None,
    use_static_signing_key: bool | None = None,
    user_context: dict[str, Any] | None = None,
    *,
    gatepass: Gatepass | None = None,
) -> CreateJwtOkResult:
    """As ``asyncio.create_jwt``, blocking."""
    issuer = discovery_of(gatepass).issuer
    gp, flow = create_jwt_flow(gatepass, payload, validity_seconds, use_static_signing_key, issuer)
    return CreateJwtOkResult(run_sync(flow, gp.session))
