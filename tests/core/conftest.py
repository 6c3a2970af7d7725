"""In-process core fixtures: a runtime on each backend with an injected clock, and an HTTP client for its app."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from gatepass.core.app_config import AppConfig
from gatepass.core.http_app import CoreHttpApp
from gatepass.core.runtime import CoreRuntime
from tests.helpers import API_KEY, serve_in_thread


class FakeClock:
    """Epoch milliseconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = (int(time.time()) - 10) * 1000

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app_config() -> AppConfig:
    return AppConfig(access_token_validity=60, refresh_token_validity=60)


@pytest.fixture
def runtime(database_url: str, clock: FakeClock, app_config: AppConfig) -> Iterator[CoreRuntime]:
    rt = CoreRuntime.open(database_url, app_config, clock)
    try:
        yield rt
    finally:
        rt.close()


@pytest.fixture
def client(runtime: CoreRuntime) -> Iterator[httpx.Client]:
    """A real HTTP client against the core app served by uvicorn in a thread of this process."""
    app = CoreHttpApp(runtime, api_keys=[API_KEY])
    with serve_in_thread(app) as base_url:
        headers = {"api-key": API_KEY, "cdi-version": "5.4"}
        with httpx.Client(base_url=base_url, headers=headers, timeout=30) as http:
            yield http


def create_session(client: httpx.Client, user_id: str = "user-1", **fields: Any) -> dict[str, Any]:
    body = {
        "userId": user_id,
        "userDataInJWT": {},
        "userDataInDatabase": {},
        "useDynamicSigningKey": True,
        "enableAntiCsrf": False,
        **fields,
    }
    response = client.post("/public/recipe/session", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    assert result["status"] == "OK"
    return result


def refresh(client: httpx.Client, token: str, **fields: Any) -> dict[str, Any]:
    body = {"refreshToken": token, "enableAntiCsrf": False, "useDynamicSigningKey": True, **fields}
    response = client.post("/recipe/session/refresh", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def verify(client: httpx.Client, token: str, **fields: Any) -> dict[str, Any]:
    body = {"accessToken": token, "doAntiCsrfCheck": False, "enableAntiCsrf": False, "checkDatabase": False, **fields}
    response = client.post("/recipe/session/verify", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segments(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    return (
        json.loads(base64.urlsafe_b64decode(header + "==")),
        json.loads(base64.urlsafe_b64decode(payload + "==")),
    )


def forge(header: dict[str, Any], payload: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode())
    return signing_input + "." + b64(sign(signing_input.encode()))


def db_snapshot(runtime: CoreRuntime) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to prove that a rejected request wrote nothing."""
    tables = ("apps", "tenants", "session_info", "session_signing_keys", "jwt_signing_keys", "key_value")
    with runtime.storage.read() as tx:
        return {t: sorted(tuple(r) for r in tx._fetchall(f"SELECT * FROM {t}")) for t in tables}
