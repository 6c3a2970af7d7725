"""Fixtures for driving the official supertokens-python SDK against a real ``gatepass core`` process."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.helpers import (
    API_KEY,
    CoreProcess,
    create_pg_schema,
    drop_pg_schema,
    postgres_available,
    running_core,
)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def core(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CoreProcess]:
    """One real core process per backend and module, started with an API key."""
    tmp = tmp_path_factory.mktemp("core")
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'core.db'}"
    else:
        if not postgres_available():
            pytest.skip("PostgreSQL is not reachable")
        schema, url = create_pg_schema()
    try:
        with running_core(url, tmp / "core.log", ["--api-key", API_KEY]) as process:
            yield process
    finally:
        if schema:
            drop_pg_schema(schema)


def new_app(core: CoreProcess, core_config: dict[str, Any] | None = None) -> str:
    """Create a fresh app the way the upstream SDK test harness does; returns its connection URI."""
    app_id = str(uuid.uuid4())
    response = httpx.put(
        core.url + "/recipe/multitenancy/app/v2",
        json={"appId": app_id, "coreConfig": core_config or {}},
        headers={"api-key": API_KEY, "cdi-version": "5.4"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "OK", "createdNew": True}
    return f"{core.url}/appid-{app_id}"


def init_sdk(connection_uri: str, api_key: str | None = API_KEY, **session_options: Any) -> None:
    from supertokens_python import InputAppInfo, SupertokensConfig, init
    from supertokens_python.recipe import session

    init(
        app_info=InputAppInfo(
            app_name="gatepass-test", api_domain="http://api.example.com", website_domain="http://example.com"
        ),
        supertokens_config=SupertokensConfig(connection_uri=connection_uri, api_key=api_key),
        framework="fastapi",
        recipe_list=[session.init(**session_options)],
        mode="asgi",
        telemetry=False,
    )


def reset_sdk() -> None:
    from supertokens_python import Supertokens
    from supertokens_python.process_state import ProcessState
    from supertokens_python.recipe.accountlinking.recipe import AccountLinkingRecipe
    from supertokens_python.recipe.jwt.recipe import JWTRecipe
    from supertokens_python.recipe.multitenancy.recipe import MultitenancyRecipe
    from supertokens_python.recipe.oauth2provider.recipe import OAuth2ProviderRecipe
    from supertokens_python.recipe.openid.recipe import OpenIdRecipe
    from supertokens_python.recipe.session.recipe import SessionRecipe

    for recipe in (
        Supertokens,
        SessionRecipe,
        AccountLinkingRecipe,
        JWTRecipe,
        OpenIdRecipe,
        MultitenancyRecipe,
        OAuth2ProviderRecipe,
    ):
        recipe.reset()
    ProcessState.get_instance().reset()


@pytest.fixture
def sdk_reset() -> Iterator[None]:
    reset_sdk()
    yield
    reset_sdk()
