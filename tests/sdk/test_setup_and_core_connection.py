"""gatepass.init validation, the remote core's host failover and API key, core outages, and the JWKS cache."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

import gatepass
from gatepass.errors import ConfigurationError
from gatepass.recipe import session
from gatepass.recipe.app_info import AppInfo
from gatepass.recipe.instance import create, get_instance, reset
from gatepass.recipe.session import syncio
from gatepass.recipe.session.core_client import EmbeddedCore, RemoteCore
from gatepass.recipe.session.errors import CoreError, CoreUnavailableError
from gatepass.recipe.session.jwks_cache import JwksCache
from tests.conformance.conftest import new_app
from tests.helpers import API_KEY, CoreProcess, free_port
from tests.sdk.apps import serve
from tests.sdk.conftest import FRAMEWORKS, build_gatepass, running_app

INFO = AppInfo(app_name="t", api_domain="http://localhost:8000", website_domain="http://localhost:3000")


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"app_info": "x"}, "app_info"),
        ({"core": "http://localhost:3567"}, "core must be"),
        ({"framework": "bottle"}, "framework must be one of"),
        ({"recipe_list": []}, "exactly one session recipe"),
        ({"recipe_list": [object()]}, "not a recipe"),
        ({"recipe_list": [session.init(anti_csrf="SOMETIMES")]}, "anti_csrf"),
        ({"recipe_list": [session.init(cookie_same_site="loose")]}, "cookie_same_site"),
        ({"recipe_list": [session.init(session_expired_status_code=403)]}, "must differ"),
        ({"recipe_list": [session.init(token_transfer_method="carrier-pigeon")]}, "token_transfer_method"),
    ],
)
def test_init_names_the_wrong_setting(tmp_path: Path, kwargs: dict[str, Any], message: str) -> None:
    settings: dict[str, Any] = {
        "app_info": INFO,
        "core": EmbeddedCore(f"sqlite:///{tmp_path / 'x.db'}"),
        "framework": "fastapi",
        "recipe_list": [session.init()],
        **kwargs,
    }
    with pytest.raises(ConfigurationError, match=message):
        gatepass.init(**settings)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"api_domain": "ftp://x"}, "api_domain"),
        ({"api_domain": ""}, "api_domain"),
        ({"website_domain": "http://x/path"}, "website_domain"),
        ({"app_name": " "}, "app_name"),
        ({"api_base_path": "/auth?x"}, "api_base_path"),
    ],
)
def test_app_info_is_validated(kwargs: dict[str, Any], message: str) -> None:
    values = {
        "app_name": "t",
        "api_domain": "http://localhost:8000",
        "website_domain": "http://localhost:3000",
        **kwargs,
    }
    with pytest.raises(ConfigurationError, match=message):
        AppInfo(**values)


def test_other_config_errors() -> None:
    with pytest.raises(ConfigurationError, match="connection_uri"):
        RemoteCore("")
    with pytest.raises(ConfigurationError, match="not an http"):
        RemoteCore("localhost:3567")
    with pytest.raises(ConfigurationError, match="access_token_validity"):
        EmbeddedCore("sqlite:///x.db", access_token_validity=0)
    with pytest.raises(TypeError):
        session.init(cookie_colour="blue")


def test_init_sets_the_process_default(tmp_path: Path) -> None:
    instance = gatepass.init(
        app_info=INFO,
        core=EmbeddedCore(f"sqlite:///{tmp_path / 'd.db'}"),
        framework="flask",
        recipe_list=[session.init()],
    )
    try:
        assert get_instance() is instance
        created = syncio.create_new_session_without_request_response("public", "default-user")
        assert syncio.get_session_without_request_response(created.get_access_token()) is not None
        assert "api_key" not in repr(instance.core)
    finally:
        reset()
    with pytest.raises(ConfigurationError, match="not initialised"):
        get_instance()


def test_remote_core_fails_over_to_the_next_host(remote_core: CoreProcess) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    live = new_app(remote_core)
    gp = create(
        app_info=INFO, core=RemoteCore(f"{dead};{live}", API_KEY), framework="fastapi", recipe_list=[session.init()]
    )
    try:
        for _ in range(4):  # round-robin starts on either host; the dead one is skipped every time
            created = syncio.create_new_session_without_request_response("public", "u", gatepass=gp)
            assert syncio.get_session_without_request_response(created.get_access_token(), gatepass=gp) is not None
    finally:
        gp.close()


def test_remote_core_errors_are_clear(remote_core: CoreProcess) -> None:
    wrong_key = create(
        app_info=INFO,
        core=RemoteCore(new_app(remote_core), "wrong-key-0123456789abc"),
        framework="fastapi",
        recipe_list=[session.init()],
    )
    with pytest.raises(CoreError, match="401"):
        syncio.create_new_session_without_request_response("public", "u", gatepass=wrong_key)
    wrong_key.close()
    nobody = create(
        app_info=INFO,
        core=RemoteCore(f"http://127.0.0.1:{free_port()}"),
        framework="fastapi",
        recipe_list=[session.init()],
    )
    with pytest.raises(CoreUnavailableError, match="no core reachable"):
        syncio.create_new_session_without_request_response("public", "u", gatepass=nobody)
    nobody.close()


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_core_outage_is_a_clean_503(framework: str, tmp_path: Path) -> None:
    other = build_gatepass("fastapi", EmbeddedCore(f"sqlite:///{tmp_path / 'other.db'}"))
    well_formed = syncio.create_new_session_without_request_response("public", "u", gatepass=other).get_access_token()
    other.close()
    gp = build_gatepass(framework, RemoteCore(f"http://127.0.0.1:{free_port()}"))
    from gatepass.recipe.instance import set_default

    try:
        with running_app(framework, gp) as url, httpx.Client(base_url=url) as client:
            login = client.post("/login", json={"userId": "u"})
            assert login.status_code == 503 and login.json() == {"message": "the session service is unavailable"}
            refresh = client.post("/auth/session/refresh", headers={"Authorization": "Bearer gp1.abc", "rid": "x"})
            assert refresh.status_code == 503
            garbage = client.get("/protected", headers={"Authorization": "Bearer a.e30.c2ln"})
            assert garbage.status_code == 401  # not a token at all: no key needed, no core call
            needs_keys = client.get("/protected", headers={"Authorization": f"Bearer {well_formed}"})
            assert needs_keys.status_code == 503
    finally:
        gp.close()
        set_default(None)


# JWKS cache --------------------------------------------------------------------------------------------------------
class FakeKeys:
    def __init__(self) -> None:
        self.calls = 0
        self.fail = False
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self) -> dict[str, Any]:
        self.calls += 1
        self.gate.wait(5)
        if self.fail:
            raise CoreUnavailableError("down")
        return {"keys": []}


def test_jwks_single_flight_under_concurrent_unknown_kids() -> None:
    fetch = FakeKeys()
    now = [1_000_000]
    cache = JwksCache(fetch, lambda: now[0], cooldown_ms=500)
    cache.refresh(None)
    now[0] += 600
    fetch.gate.clear()
    threads = [threading.Thread(target=cache.refresh, args=(f"d-{i}",)) for i in range(20)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    fetch.gate.set()
    for thread in threads:
        thread.join()
    assert fetch.calls == 2  # the first load, then one reload for twenty unknown kids


def test_jwks_cooldown_and_stale_keys_kept_on_failure() -> None:
    fetch = FakeKeys()
    now = [0]
    cache = JwksCache(fetch, lambda: now[0], cooldown_ms=500, refresh_interval_ms=10_000)
    cache.refresh("d-x")
    cache._keys = {"d-known": object()}  # type: ignore[dict-item]
    assert not cache.wants_refresh("d-unknown")  # within the cooldown
    now[0] += 500
    assert cache.wants_refresh("d-unknown") and not cache.wants_refresh("d-known")
    now[0] += 10_000
    assert cache.wants_refresh("d-known")  # stale after the refresh interval
    fetch.fail = True
    cache.refresh("d-known")
    assert cache.key("d-known") is not None  # the stale key is kept while the core is down


# options that change answers -------------------------------------------------------------------------------------
def test_custom_status_code_and_error_handlers(tmp_path: Path) -> None:
    from gatepass.recipe.session import ErrorHandlers

    def please_log_in(error: Any, request: Any, response: Any) -> None:
        response.status, response.body = 440, {"error": "please log in"}

    handlers = ErrorHandlers(on_unauthorised=please_log_in)
    gp = build_gatepass(
        "fastapi",
        EmbeddedCore(f"sqlite:///{tmp_path / 'e.db'}"),
        session_expired_status_code=440,
        error_handlers=handlers,
    )
    try:
        with serve("fastapi", gp) as url, httpx.Client(base_url=url) as client:
            unauthorised = client.get("/protected")
            assert unauthorised.status_code == 440 and unauthorised.json() == {"error": "please log in"}
            try_refresh = client.get("/protected", headers={"Cookie": "sIdRefreshToken=legacy"})
            assert try_refresh.status_code == 440 and try_refresh.json() == {"message": "try refresh token"}
    finally:
        gp.close()


def test_api_override_can_disable_the_refresh_endpoint(tmp_path: Path) -> None:
    from gatepass.recipe.session.recipe import APIInterface, Overrides

    def disable(original: APIInterface) -> APIInterface:
        original.disable_refresh_post = True
        return original

    gp = build_gatepass("fastapi", EmbeddedCore(f"sqlite:///{tmp_path / 'd.db'}"), override=Overrides(apis=disable))
    try:
        with serve("fastapi", gp) as url:
            assert httpx.post(url + "/auth/session/refresh").status_code == 404  # falls through to the app
            assert httpx.post(url + "/auth/signout").status_code == 401
    finally:
        gp.close()


@pytest.mark.parametrize("older_domain", [None, "example.com"])
def test_duplicate_refresh_cookies(tmp_path: Path, older_domain: str | None) -> None:
    gp = build_gatepass("fastapi", EmbeddedCore(f"sqlite:///{tmp_path / 'c.db'}"), older_cookie_domain=older_domain)
    try:
        with serve("fastapi", gp) as url:
            response = httpx.post(
                url + "/auth/session/refresh", headers={"Cookie": "sRefreshToken=a; sRefreshToken=b", "rid": "session"}
            )
            if older_domain is None:
                assert response.status_code == 400 and "older_cookie_domain" in response.json()["message"]
            else:
                assert response.status_code == 200
                cleared = [c for c in response.headers.get_list("set-cookie") if c.startswith("sRefreshToken=;")]
                assert cleared and "Domain=example.com" in cleared[0]
    finally:
        gp.close()


@pytest.mark.parametrize("transfer", ["cookie", "header", "any"])
def test_refresh_without_a_request_works_in_every_transfer_mode(tmp_path: Path, transfer: str) -> None:
    """The refresh token is presented the way the recipe accepts it (cookie mode used to refuse it always)."""
    gp = build_gatepass("flask", EmbeddedCore(f"sqlite:///{tmp_path / 'r.db'}"), token_transfer_method=transfer)
    created = syncio.create_new_session_without_request_response("public", "user-1", gatepass=gp)
    refresh_token = created.get_all_session_tokens_dangerously()["refreshToken"]
    anti_csrf = created.get_all_session_tokens_dangerously()["antiCsrfToken"]
    refreshed = syncio.refresh_session_without_request_response(refresh_token, False, anti_csrf, gatepass=gp)
    assert refreshed.get_handle() == created.get_handle()
    assert refreshed.get_all_session_tokens_dangerously()["refreshToken"] not in (None, refresh_token)
    gp.close()


def test_a_closed_remote_core_reopens_its_client_on_the_next_call(tmp_path: Path) -> None:
    from gatepass.core.http_app import CoreHttpApp
    from gatepass.core.runtime import CoreRuntime
    from gatepass.recipe.session.steps import CoreCall
    from tests.helpers import serve_in_thread

    runtime = CoreRuntime.open(f"sqlite:///{tmp_path / 'core.db'}")
    with serve_in_thread(CoreHttpApp(runtime)) as url:
        remote = RemoteCore(url)
        assert remote.send_sync(CoreCall("GET", "/apiversion"))["versions"]
        remote.close()
        assert remote.send_sync(CoreCall("GET", "/apiversion"))["versions"]  # it used to raise httpx's RuntimeError
        remote.close()
    runtime.close()
