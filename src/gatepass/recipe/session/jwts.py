"""JWTs the core signs for other services (a FaunaDB AccessProvider, your own APIs), and the two public documents
such a service reads to trust them: supertokens-python's JWT and OpenId recipes, at their paths.

- ``GET {base}/jwt/jwks.json``: the core's public keys, ``{"keys": [...]}`` with their public members only. They
  come from the SDK's key cache (the one that verifies access tokens), reloaded when older than a minute
  (upstream's default max-age), so anonymous traffic costs the core at most one call a minute. Answered with
  ``Cache-Control: max-age=<what remains of the minute>, must-revalidate`` and ``Access-Control-Allow-Origin: *``,
  as upstream.
- ``GET {base}/.well-known/openid-configuration``: ``issuer`` (api domain + base path, the ``iss`` of the JWTs
  ``create_jwt`` signs with ``issuer``), ``jwks_uri`` (the document above) and the signing algorithm. gatepass is
  no OAuth2 authorisation server, so the authorisation endpoints upstream's recipe lists are left out.
- ``create_jwt``: one ``POST /recipe/jwt``; the core adds ``iat`` and ``exp`` and refuses session claims, so such a
  JWT never passes for an access token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gatepass.errors import ConfigurationError, CoreError
from gatepass.protocol.cdi import CreateJwt, UnsupportedAlgorithm
from gatepass.protocol.cdi_platform import JWT_ALGORITHM, MAX_JWT_VALIDITY_S
from gatepass.recipe.app_info import AppInfo
from gatepass.recipe.session.http_types import ResponseChanges
from gatepass.recipe.session.jwks_cache import JwksCache
from gatepass.recipe.session.signatures import ApiResult, JsonObject
from gatepass.recipe.session.steps import Blocking, Flow, ask

JWKS_PATH = "/jwt/jwks.json"
DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_MAX_AGE_MS = 60_000
DEFAULT_JWT_VALIDITY_S = 3_153_600_000  # upstream's default (a century): pass a short one for anything real


def create_jwt(
    app_info: AppInfo,
    payload: Mapping[str, Any],
    validity_seconds: int | None = None,
    use_static_signing_key: bool | None = None,
    *,
    issuer: str | None = None,
) -> Flow[str]:
    """A JWT of ``payload`` signed by the core: RS256, the static key unless ``use_static_signing_key`` is
    ``False`` (a dynamic key rotates out of the JWKS), ``exp`` = now + ``validity_seconds``. ``iss`` is
    ``issuer`` when given (the payload's own ``iss`` still wins), else the payload's, else the API domain."""
    if not isinstance(payload, Mapping):
        raise ConfigurationError("create_jwt: payload must be a JSON object (a dict)")
    validity = DEFAULT_JWT_VALIDITY_S if validity_seconds is None else validity_seconds
    if isinstance(validity, bool) or not isinstance(validity, int) or not 1 <= validity <= MAX_JWT_VALIDITY_S:
        raise ConfigurationError(f"create_jwt: validity_seconds must be a whole number from 1 to {MAX_JWT_VALIDITY_S}")
    claims = dict(payload) if issuer is None else {"iss": issuer, **payload}
    request = CreateJwt(
        payload=claims,
        validity_s=validity,
        use_static_signing_key=use_static_signing_key is not False,
        jwks_domain=app_info.api_domain,
    )
    reply = yield from ask(request)
    if isinstance(reply, UnsupportedAlgorithm):  # gatepass always asks for RS256: a core that refuses it is broken
        raise CoreError(f"the core refused to sign a JWT with {JWT_ALGORITHM}")
    return reply.jwt


def discovery_document(app_info: AppInfo) -> JsonObject:
    """The OpenID discovery document (the module docstring says what it holds and why no more)."""
    return {
        "issuer": app_info.issuer,
        "jwks_uri": app_info.issuer + JWKS_PATH,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [JWT_ALGORITHM],
    }


def _public(changes: ResponseChanges) -> ResponseChanges:
    changes.set_header("access-control-allow-origin", "*")  # any relying party's page may read these documents
    return changes


def jwks_get(keys: JwksCache) -> Flow[ApiResult]:
    """``GET {base}/jwt/jwks.json``: the published keys (reloaded from the core when a minute old)."""
    if keys.wants_refresh(None, JWKS_MAX_AGE_MS):  # a reload blocks: in a worker thread (async), once a minute
        yield Blocking(lambda: keys.published(JWKS_MAX_AGE_MS))
    published, remaining_ms = keys.published(JWKS_MAX_AGE_MS)
    changes = ResponseChanges()
    changes.set_header("cache-control", f"max-age={remaining_ms // 1000}, must-revalidate")
    return ApiResult(200, {"keys": published}, _public(changes))


def open_id_discovery_configuration_get(app_info: AppInfo) -> Flow[ApiResult]:
    """``GET {base}/.well-known/openid-configuration``."""
    return ApiResult(200, discovery_document(app_info), _public(ResponseChanges()))
    yield  # a flow, like every API
