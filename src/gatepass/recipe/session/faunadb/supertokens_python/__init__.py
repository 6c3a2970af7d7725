"""The FaunaDB integration for the official supertokens-python SDK (0.31), as an override of its session recipe's
functions: a Fauna token per session, minted at login, rotated at refresh, deleted when the session ends, with the
same rules as gatepass's own ``faunadb.init`` (they are one copy: ``lifecycle``). It needs neither gatepass's SDK nor
its ``init``: only ``pip install 'gatepass[supertokens-python]'``.

::

    from faunadb.client import FaunaClient
    from supertokens_python.recipe import session
    from gatepass.recipe.session.faunadb.supertokens_python import override_functions

    session.init(override=session.InputOverrideConfig(functions=override_functions(
        FaunaClient(secret=server_key), "users", access_faunadb_token_from_frontend=True)))

Then ``create_new_session(request, "public", RecipeUserId(<user document id>))`` mints the token, and
``asyncio.get_faunadb_token(session)`` (or ``syncio``'s) returns it.
"""

from __future__ import annotations

from collections.abc import Callable

from supertokens_python.recipe.session.interfaces import RecipeInterface

from gatepass.recipe.session.faunadb.fauna_calls import (  # importing it patches the driver (see there)
    FaunaClient,
    FaunaIntegrationError,
    FaunaUnavailableError,
    FaunaUserNotFoundError,
)
from gatepass.recipe.session.faunadb.lifecycle import (
    DEFAULT_LAG_MS,
    FAUNADB_SEALED_TOKEN_KEY,
    FAUNADB_TOKEN_KEY,
    FAUNADB_TOKEN_REF_KEY,
)
from gatepass.recipe.session.faunadb.options import fauna_token_settings
from gatepass.recipe.session.faunadb.supertokens_python.host import OfficialFaunaOverride

__all__ = [
    "FAUNADB_SEALED_TOKEN_KEY",
    "FAUNADB_TOKEN_KEY",
    "FAUNADB_TOKEN_REF_KEY",
    "FaunaIntegrationError",
    "FaunaUnavailableError",
    "FaunaUserNotFoundError",
    "override_functions",
]


def override_functions(
    faunadb_client: FaunaClient,
    user_collection_name: str,
    access_faunadb_token_from_frontend: bool = False,
    *,
    faunadb_token_time_lag_ms: int = DEFAULT_LAG_MS,
    user_external_id_index: str | None = None,
    create_user_on_first_login: bool = False,
    user_external_id_field: str = "externalId",
    faunadb_token_seal_key: bytes | None = None,
) -> Callable[[RecipeInterface], RecipeInterface]:
    """The ``functions`` override for ``supertokens_python.recipe.session.init``, with the options of gatepass's
    ``faunadb.init`` (checked here, at start-up).

    Users are Fauna documents of ``user_collection_name``: the session's user id is the document's numeric id, or,
    with ``user_external_id_index``, a term of that index (``create_user_on_first_login`` then creates
    ``{data: {<user_external_id_field>: user id}}`` for an id no document has). ``access_faunadb_token_from_frontend``
    puts the secret in the access-token payload as ``faunadbToken`` (the frontend reads it with
    ``getAccessTokenPayloadSecurely()``); otherwise the payload carries it sealed with ``faunadb_token_seal_key``
    (default: derived from the client's server key) and only the backend opens it. Each Fauna token lives until its
    access token's expiry + ``faunadb_token_time_lag_ms``. To add overrides of your own, wrap this one:
    ``functions=lambda original: mine(override_functions(...)(original))``.
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

    def functions(original_implementation: RecipeInterface) -> RecipeInterface:
        return OfficialFaunaOverride(settings, original_implementation).install()

    return functions
