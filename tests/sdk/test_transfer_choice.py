"""``get_token_transfer_method`` (upstream's callback) over real HTTP: the app decides per request how tokens travel,
at login (``for_create=True``), verification and refresh (``False``), with the request's headers to decide from.
Here a mobile client (``x-client: mobile``) gets headers only and a browser cookies only; a token that came the
other way is not read. A callback returning nonsense is a configuration error, never a wrong transport."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gatepass.errors import ConfigurationError
from gatepass.recipe.app_info import AppInfo
from gatepass.recipe.session import transport
from gatepass.recipe.session.config import SessionOptions, TransferSetting, build_session_config
from gatepass.recipe.session.http_types import RequestView
from tests.helpers import CoreProcess
from tests.sdk.conftest import build_gatepass, make_core, running_app

MOBILE = {"x-client": "mobile"}
Calls = list[tuple[str, bool]]


def _chooser(calls: Calls) -> Any:
    def get_token_transfer_method(request: RequestView, for_create: bool, user_context: dict[str, Any]) -> str:
        assert user_context == {}
        calls.append((request.path, for_create))
        return "header" if request.header("x-client") == "mobile" else "cookie"

    return get_token_transfer_method


@pytest.fixture(
    params=[("fastapi", "embedded"), ("fastapi", "remote"), ("flask", "embedded")], ids=lambda p: "-".join(p)
)
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[httpx.Client, Calls]]:
    framework, mode = request.param
    remote: CoreProcess | None = request.getfixturevalue("remote_core") if mode == "remote" else None
    calls: Calls = []
    gp = build_gatepass(framework, make_core(mode, remote, tmp_path), get_token_transfer_method=_chooser(calls))
    try:
        with running_app(framework, gp) as url, httpx.Client(base_url=url, timeout=30) as client:
            yield client, calls
    finally:
        gp.close()


def test_the_callback_decides_how_a_login_delivers_tokens(app: tuple[httpx.Client, Calls]) -> None:
    client, calls = app
    mobile = client.post("/login", json={"userId": "m"}, headers={**MOBILE, "st-auth-mode": "cookie"})
    assert mobile.headers["st-access-token"] and "set-cookie" not in mobile.headers  # st-auth-mode is overruled
    browser = client.post("/login", json={"userId": "b"}, headers={"st-auth-mode": "header"})
    assert "st-access-token" not in browser.headers and "sAccessToken" in browser.headers["set-cookie"]
    assert ("/login", True) in calls


def test_a_token_that_came_the_other_way_is_not_read(app: tuple[httpx.Client, Calls]) -> None:
    client, calls = app
    access = client.post("/login", json={"userId": "m"}, headers=MOBILE).headers["st-access-token"]
    bearer = {"Authorization": f"Bearer {access}"}
    assert client.get("/protected", headers={**bearer, **MOBILE}).json()["userId"] == "m"
    refused = client.get("/protected", headers=bearer)  # a "browser" presenting a bearer token: cookies only
    assert refused.status_code == 401 and refused.json() == {"message": "unauthorised"}
    assert ("/protected", False) in calls
    client.post("/login", json={"userId": "b"})  # cookies now in the client's jar
    assert client.get("/protected").json()["userId"] == "b"
    assert client.get("/protected", headers=MOBILE).status_code == 401  # a "mobile" client's cookies are not read


def test_refresh_follows_the_callback(app: tuple[httpx.Client, Calls]) -> None:
    client, calls = app
    refresh = client.post("/login", json={"userId": "m"}, headers=MOBILE).headers["st-refresh-token"]
    bearer = {"Authorization": f"Bearer {refresh}", "rid": "session"}
    assert client.post("/auth/session/refresh", headers=bearer).status_code == 401  # not as a browser
    refreshed = client.post("/auth/session/refresh", headers={**bearer, **MOBILE})
    assert refreshed.status_code == 200 and refreshed.headers["st-refresh-token"] != refresh
    assert ("/auth/session/refresh", False) in calls


def test_a_callback_answering_nonsense_is_a_configuration_error() -> None:
    info = AppInfo(app_name="t", api_domain="http://127.0.0.1:8000", website_domain="http://127.0.0.1:3000")
    config = build_session_config(info, SessionOptions(get_token_transfer_method=lambda *_: "pigeon"))  # type: ignore[arg-type, return-value]
    with pytest.raises(ConfigurationError, match="cookie, header or any"):
        transport.allowed_transfer(RequestView.build("GET", "/", []), config, False)
    with pytest.raises(ConfigurationError, match="must be a function"):
        build_session_config(info, SessionOptions(get_token_transfer_method="header"))  # type: ignore[arg-type]
    chosen: TransferSetting = "any"
    plain = build_session_config(info, SessionOptions(token_transfer_method=chosen))
    assert transport.allowed_transfer(RequestView.build("GET", "/", []), plain, True) == "any"
