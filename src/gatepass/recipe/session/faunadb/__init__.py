"""The SuperTokens "Using with FaunaDB" guide, in Python: ``faunadb.init(...)`` in place of ``session.init(...)``.

::

    from faunadb.client import FaunaClient
    from gatepass.recipe.session import faunadb

    gatepass.init(..., recipe_list=[faunadb.init(
        faunadb_client=FaunaClient(secret=server_key, scheme="http", domain="127.0.0.1", port=8443),
        user_collection_name="users",
        access_faunadb_token_from_frontend=True,
    )])

Then ``create_new_session(request, "public", <user document id>)`` mints a Fauna token for that document, and
``session.get_faunadb_token()`` returns it. See ``integration`` for renewal and revocation.
"""

from __future__ import annotations

from typing import Any

from gatepass.errors import ConfigurationError, FaunaUserNotFoundError
from gatepass.recipe.session.config import SessionOptions
from gatepass.recipe.session.errors import ErrorHandlers
from gatepass.recipe.session.faunadb.access_provider import AccessProviderJwts, JwtClaims
from gatepass.recipe.session.faunadb.fauna_calls import (  # importing it patches the driver (see there)
    FaunaClient,
    FaunaIntegrationError,
    FaunaUnavailableError,
)
from gatepass.recipe.session.faunadb.integration import (
    DEFAULT_LAG_MS,
    FAUNADB_SEALED_TOKEN_KEY,
    FAUNADB_TOKEN_KEY,
    FAUNADB_TOKEN_REF_KEY,
    FaunaIntegration,
    FaunaSettings,
)
from gatepass.recipe.session.faunadb.options import fauna_token_settings, lag_ms, seal_key
from gatepass.recipe.session.faunadb.sealing import TokenSeal
from gatepass.recipe.session.recipe import Overrides, RecipeInterface, SessionRecipe
from gatepass.recipe.session.spec import SessionRecipeSpec
from gatepass.recipe.session.state import AnyValidator

__all__ = [
    "FAUNADB_SEALED_TOKEN_KEY",
    "FAUNADB_TOKEN_KEY",
    "FAUNADB_TOKEN_REF_KEY",
    "FaunaClient",
    "FaunaIntegrationError",
    "FaunaUnavailableError",
    "FaunaUserNotFoundError",
    "init",
    "init_with_access_provider",
]


def init(
    *,
    faunadb_client: FaunaClient,
    user_collection_name: str,
    access_faunadb_token_from_frontend: bool = False,
    faunadb_token_time_lag_ms: int = DEFAULT_LAG_MS,
    user_external_id_index: str | None = None,
    create_user_on_first_login: bool = False,
    user_external_id_field: str = "externalId",
    faunadb_token_seal_key: bytes | None = None,
    claim_validators: list[AnyValidator] | None = None,
    override: Overrides | None = None,
    error_handlers: ErrorHandlers | None = None,
    **session_options: Any,
) -> SessionRecipeSpec:
    """The session recipe with the FaunaDB integration; takes every ``session.init`` option too.

    Users are Fauna documents of ``user_collection_name``: the session's user id is the document's numeric id, or,
    with ``user_external_id_index``, a term of that index (an id from anywhere: an OAuth provider, your own user
    table); ``create_user_on_first_login`` then creates ``{data: {<user_external_id_field>: user id}}`` for an id no
    document has. Finding (or creating) the document and minting its token are one Fauna query.
    """
    settings = fauna_token_settings(
        faunadb_client,
        user_collection_name,
        access_faunadb_token_from_frontend,
        faunadb_token_time_lag_ms,
        user_external_id_index,
        create_user_on_first_login,
        user_external_id_field,
        faunadb_token_seal_key,
    )
    return _spec(settings, claim_validators, override, error_handlers, session_options)


def init_with_access_provider(
    *,
    audience: str,
    issuer: str | None = None,
    jwt_claims: JwtClaims | None = None,
    access_faunadb_token_from_frontend: bool = False,
    faunadb_token_time_lag_ms: int = DEFAULT_LAG_MS,
    faunadb_token_seal_key: bytes | None = None,
    claim_validators: list[AnyValidator] | None = None,
    override: Overrides | None = None,
    error_handlers: ErrorHandlers | None = None,
    **session_options: Any,
) -> SessionRecipeSpec:
    """The session recipe with gatepass JWTs as Fauna credentials, for a Fauna AccessProvider registered with
    ``issuer`` (default: the app's OpenID issuer, api domain + base path) and ``jwks_uri`` = ``{issuer}/jwt/jwks.json``;
    ``audience`` is the one Fauna generated for the provider (``Select("audience", Get(AccessProvider(name)))``).

    ``get_faunadb_token()`` (and ``faunadbToken`` in frontend mode) is then a JWT with ``sub`` = the user id,
    ``exp`` in [the access token's expiry, expiry + lag] (whole seconds), plus ``jwt_claims(user_id)`` for the
    roles' predicates; users live wherever you keep them, and no Fauna query is made at login or refresh (see
    ``access_provider``). Backend-only mode seals the JWT with ``faunadb_token_seal_key`` (32+ random bytes, the
    same in every backend process).
    """
    if not isinstance(audience, str) or not audience.startswith("https://") or len(audience) > 512:
        raise ConfigurationError("audience must be the AccessProvider's audience (https://db.fauna.com/db/...)")
    if issuer is not None and (
        not isinstance(issuer, str) or not issuer.startswith(("https://", "http://")) or len(issuer) > 2048
    ):
        raise ConfigurationError("issuer must be the URL the AccessProvider was registered with")
    if jwt_claims is not None and not callable(jwt_claims):
        raise ConfigurationError("jwt_claims must be a function of the user id returning a dict of claims")
    frontend = bool(access_faunadb_token_from_frontend)
    if not frontend and faunadb_token_seal_key is None:
        raise ConfigurationError(
            "backend-only mode seals the Fauna JWT into the access token: pass faunadb_token_seal_key (32+ bytes)"
        )
    settings = FaunaSettings(
        AccessProviderJwts(audience, issuer, jwt_claims),
        None if frontend else TokenSeal(seal_key(None, faunadb_token_seal_key)),
        lag_ms(faunadb_token_time_lag_ms),
    )
    return _spec(settings, claim_validators, override, error_handlers, session_options)


def _spec(
    settings: FaunaSettings,
    claim_validators: list[AnyValidator] | None,
    override: Overrides | None,
    error_handlers: ErrorHandlers | None,
    session_options: dict[str, Any],
) -> SessionRecipeSpec:
    user_functions = override.functions if override else None

    def functions(original: RecipeInterface) -> RecipeInterface:
        installed = FaunaIntegration(settings, original).install(original)
        return user_functions(installed) if user_functions else installed

    overrides = Overrides(functions=functions, apis=override.apis if override else None)
    return SessionRecipeSpec(SessionOptions(**session_options), list(claim_validators or []), overrides, error_handlers)


def installed_integration(recipe: SessionRecipe) -> FaunaIntegration | None:
    """The FaunaDB integration serving ``recipe``'s ``get_faunadb_token``, if any (for inspection and tests)."""
    owner = getattr(recipe.functions.get_faunadb_token, "__self__", None)
    return owner if isinstance(owner, FaunaIntegration) else None
