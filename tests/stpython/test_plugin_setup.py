"""The supertokens-python plugin's set-up: options are checked when the override is built (before the SDK serves
anything), ``get_faunadb_token`` on a recipe without the override says what is missing, the plugin needs no
gatepass ``init``, and the reprs of its objects hold no secrets."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from supertokens_python.recipe.session.asyncio import create_new_session_without_request_response
from supertokens_python.types import RecipeUserId

import gatepass.recipe.instance
from gatepass.errors import ConfigurationError
from gatepass.recipe.session.faunadb.fauna_calls import FaunaClient
from gatepass.recipe.session.faunadb.supertokens_python import asyncio as fauna_async
from gatepass.recipe.session.faunadb.supertokens_python import override_functions
from gatepass.recipe.session.faunadb.supertokens_python import syncio as fauna_sync
from gatepass.recipe.session.faunadb.supertokens_python.host import OfficialFaunaOverride, facts_of
from gatepass.recipe.session.steps import Awaited, run_sync
from tests.conformance.conftest import init_sdk, new_app
from tests.helpers import CoreProcess
from tests.stpython.apps import init_official_sdk
from tests.stpython.conftest import FaunaWorld

CLIENT = FaunaClient(secret="fnAE-server-key-never-printed", scheme="http", domain="127.0.0.1", port=1)


@pytest.mark.parametrize(
    ("client", "collection", "options", "message"),
    [
        ("not a client", "users", {}, "faunadb_client must be"),
        (CLIENT, "", {}, "user_collection_name"),
        (CLIENT, "a/b", {}, "user_collection_name"),
        (CLIENT, "users", {"faunadb_token_time_lag_ms": -1}, "between 0 and 3600000"),
        (CLIENT, "users", {"faunadb_token_time_lag_ms": 1.5}, "whole number"),
        (CLIENT, "users", {"faunadb_token_time_lag_ms": True}, "whole number"),
        (CLIENT, "users", {"create_user_on_first_login": True}, "needs user_external_id_index"),
        (CLIENT, "users", {"create_user_on_first_login": "yes"}, "True or False"),
        (CLIENT, "users", {"user_external_id_index": 7}, "user_external_id_index"),
        (CLIENT, "users", {"faunadb_token_seal_key": b"short"}, "at least 32"),
        (CLIENT, "users", {"faunadb_token_seal_key": "x" * 40}, "at least 32"),
    ],
)
def test_bad_options_fail_when_the_override_is_built(
    client: Any, collection: Any, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        override_functions(client, collection, **options)


def test_the_frontend_mode_needs_no_seal_key_and_the_backend_mode_derives_one() -> None:
    assert callable(override_functions(CLIENT, "users", access_faunadb_token_from_frontend=True))
    assert callable(override_functions(CLIENT, "users"))  # sealed with a key derived from the server key
    keyless = FaunaClient(secret="", scheme="http", domain="127.0.0.1", port=1)
    with pytest.raises(ConfigurationError, match="no usable secret"):
        override_functions(keyless, "users")
    assert callable(override_functions(keyless, "users", faunadb_token_seal_key=b"k" * 32))


@pytest.mark.usefixtures("sdk_reset")
async def test_get_faunadb_token_without_the_override_says_what_is_missing(core: CoreProcess) -> None:
    init_sdk(new_app(core))  # the official SDK with no FaunaDB override
    session = await create_new_session_without_request_response("public", RecipeUserId("u1"))
    with pytest.raises(ConfigurationError, match="override_functions"):
        await fauna_async.get_faunadb_token(session)


@pytest.mark.usefixtures("sdk_reset")
def test_the_sync_api_works_without_gatepass_init_and_reprs_hold_no_secret(
    core: CoreProcess, world: FaunaWorld
) -> None:
    from supertokens_python.recipe.session.recipe import SessionRecipe
    from supertokens_python.recipe.session.syncio import create_new_session_without_request_response as create

    gatepass.recipe.instance.reset()
    fauna = world.fauna.client(world.server_key)
    init_official_sdk("flask", new_app(core), "http://127.0.0.1:1", fauna, api_key="test-api-key-0123456789-abcdef")
    user = world.users["alice"].id()
    try:
        session = create("public", RecipeUserId(user))
        secret = fauna_sync.get_faunadb_token(session)
    finally:  # the SDK's sync API left an event loop on this thread: close it, or a later test sees it unclosed
        asyncio.get_event_loop_policy().get_event_loop().close()
        asyncio.set_event_loop(None)
    assert not world.refuses(secret)
    with pytest.raises(ConfigurationError, match="not initialised"):
        gatepass.recipe.instance.get_instance()  # gatepass's own SDK was never initialised
    override = SessionRecipe.get_instance().recipe_implementation.gatepass_faunadb  # type: ignore[attr-defined]
    assert isinstance(override, OfficialFaunaOverride)
    for shown in (repr(override), repr(facts_of(session)), repr(override.lifecycle), repr(override.settings)):
        assert secret not in shown and world.server_key not in shown, shown


def test_an_awaited_step_is_refused_by_the_sync_driver() -> None:
    async def never() -> None:
        raise AssertionError("not awaited")

    def flow() -> Any:
        yield Awaited(never)

    with pytest.raises(TypeError, match="needs the async API"):
        run_sync(flow(), io=None)  # type: ignore[arg-type]
