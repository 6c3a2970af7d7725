"""OpenID discovery, as supertokens-python's OpenId recipe: the SDK serves
``{api_base_path}/.well-known/openid-configuration`` whatever recipes are configured, and ``asyncio`` / ``syncio``
have ``get_open_id_discovery_configuration`` and ``create_jwt`` (a JWT whose ``iss`` is the discovery issuer)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gatepass.recipe.instance import Gatepass, get_instance
from gatepass.recipe.session import jwts

__all__ = ["GetOpenIdDiscoveryConfigurationResult", "discovery_of"]


@dataclass(frozen=True)
class GetOpenIdDiscoveryConfigurationResult:
    """The issuer (api domain + base path) and where its keys are (upstream's names)."""

    issuer: str
    jwks_uri: str
    status: Literal["OK"] = "OK"


def discovery_of(gatepass: Gatepass | None) -> GetOpenIdDiscoveryConfigurationResult:
    """The discovery document's issuer and ``jwks_uri`` for ``gatepass`` (the process default if ``None``)."""
    document = jwts.discovery_document((gatepass or get_instance()).session.config.app_info)
    return GetOpenIdDiscoveryConfigurationResult(document["issuer"], document["jwks_uri"])
