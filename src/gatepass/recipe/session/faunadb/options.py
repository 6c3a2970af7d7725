"""The FaunaDB integration's options, checked once for every SDK it plugs into (gatepass's ``faunadb.init`` and
``init_with_access_provider``, and the supertokens-python plugin): a bad option fails at start-up with a clear
``ConfigurationError``, never at the first login."""

from __future__ import annotations

from gatepass.errors import ConfigurationError
from gatepass.recipe.session.faunadb.credentials import FaunaTokenCredentials
from gatepass.recipe.session.faunadb.fauna_calls import FaunaClient, FaunaTokens, UserLookup
from gatepass.recipe.session.faunadb.lifecycle import FaunaSettings
from gatepass.recipe.session.faunadb.sealing import TokenSeal


def fauna_token_settings(
    faunadb_client: object,
    user_collection_name: object,
    access_faunadb_token_from_frontend: object,
    faunadb_token_time_lag_ms: object,
    user_external_id_index: object,
    create_user_on_first_login: object,
    user_external_id_field: object,
    faunadb_token_seal_key: object,
) -> FaunaSettings:
    """Settings for Fauna tokens minted with ``faunadb_client`` for the documents of ``user_collection_name``."""
    if not isinstance(faunadb_client, FaunaClient):
        raise ConfigurationError("faunadb_client must be a faunadb.client.FaunaClient")
    users = user_lookup(
        user_collection_name, user_external_id_index, create_user_on_first_login, user_external_id_field
    )
    frontend = bool(access_faunadb_token_from_frontend)
    return FaunaSettings(
        FaunaTokenCredentials(FaunaTokens(faunadb_client, users)),
        None if frontend else TokenSeal(seal_key(faunadb_client, faunadb_token_seal_key)),
        lag_ms(faunadb_token_time_lag_ms),
    )


def lag_ms(value: object) -> int:
    """The lag a credential outlives its access token by: 0 to 3,600,000 milliseconds."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError("faunadb_token_time_lag_ms must be a whole number of milliseconds")
    if not 0 <= value <= 3_600_000:
        raise ConfigurationError("faunadb_token_time_lag_ms must be between 0 and 3600000")
    return value


def seal_key(client: FaunaClient | None, key: object) -> bytes:
    """The key material of the backend-only mode's sealed secret: given, or the Fauna server key the client holds
    (every backend process has it; the browser never does; the seal is as strong as that key)."""
    if key is not None:
        if not isinstance(key, bytes) or len(key) < 32:
            raise ConfigurationError("faunadb_token_seal_key must be at least 32 random bytes")
        return key
    secret = getattr(getattr(client, "auth", None), "secret", None)  # the driver keeps it on its bearer auth
    if not isinstance(secret, str) or not secret:
        raise ConfigurationError("faunadb_client has no usable secret: pass faunadb_token_seal_key (32+ bytes)")
    return secret.encode("utf-8")


def _fauna_name(setting: str, value: object, what: str) -> str:
    if not isinstance(value, str) or not value or "/" in value or len(value) > 256:
        raise ConfigurationError(f"{setting} must be the name of a FaunaDB {what}")
    return value


def user_lookup(collection: object, index: object, create: object, field: object) -> UserLookup:
    """How session user ids name user documents (see ``UserLookup``), each option checked."""
    if not isinstance(create, bool):
        raise ConfigurationError("create_user_on_first_login must be True or False")
    if create and index is None:
        raise ConfigurationError("create_user_on_first_login needs user_external_id_index (the id to look users up by)")
    return UserLookup(
        _fauna_name("user_collection_name", collection, "collection"),
        None if index is None else _fauna_name("user_external_id_index", index, "index"),
        create,
        _fauna_name("user_external_id_field", field, "document field"),
    )
