"""SDK fixtures: every framework adapter, each with an embedded core and with a remote ``gatepass core`` process."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gatepass.recipe import session
from gatepass.recipe.app_info import AppInfo
from gatepass.recipe.instance import Gatepass, create, set_default
from gatepass.recipe.session.core_client import CoreConnection, EmbeddedCore, RemoteCore
from tests.conformance.conftest import new_app
from tests.helpers import API_KEY, CoreProcess, running_core
from tests.sdk.apps import serve

FRAMEWORKS = ["fastapi", "starlette", "flask", "django-sync", "django-async", "drf", "litestar"]
CORES = ["embedded", "remote"]


@pytest.fixture(scope="session")
def remote_core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CoreProcess]:
    tmp = tmp_path_factory.mktemp("remote-core")
    # The core's own limits on failed refreshes and verifies are off: the SDK tests (fuzzers included) send far more
    # failures than one address may, and the SDK's limit is what they test (tests/security covers the core's).
    args = ["--api-key", API_KEY, "--rate-limit-failed-refreshes", "off", "--rate-limit-failed-verifies", "off"]
    with running_core(f"sqlite:///{tmp / 'core.db'}", tmp / "core.log", args) as core:
        yield core


def make_core(mode: str, remote: CoreProcess | None, tmp_path: Path, **lifetimes: Any) -> CoreConnection:
    if mode == "embedded":
        return EmbeddedCore(f"sqlite:///{tmp_path / 'embedded.db'}", **lifetimes)
    assert remote is not None
    return RemoteCore(new_app(remote, lifetimes), API_KEY)


@dataclass
class SdkApp:
    url: str
    gp: Gatepass
    framework: str
    core_mode: str

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)


def build_gatepass(framework: str, core: CoreConnection, **options: Any) -> Gatepass:
    info = AppInfo(
        app_name="gatepass-tests", api_domain="http://127.0.0.1:8000", website_domain="http://127.0.0.1:3000"
    )
    name = "django" if framework.startswith("django") or framework == "drf" else framework
    return create(app_info=info, core=core, framework=name, recipe_list=[session.init(**options)])  # type: ignore[arg-type]


def running_app(framework: str, gp: Gatepass) -> Any:
    if framework.startswith("django") or framework == "drf":
        set_default(gp)
    return serve(framework, gp)


@pytest.fixture(params=[pytest.param((f, c), id=f"{f}-{c}") for f in FRAMEWORKS for c in CORES])
def sdk_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SdkApp]:
    framework, mode = request.param
    remote = request.getfixturevalue("remote_core") if mode == "remote" else None
    gp = build_gatepass(framework, make_core(mode, remote, tmp_path), anti_csrf="VIA_TOKEN")
    try:
        with running_app(framework, gp) as url:
            yield SdkApp(url, gp, framework, mode)
    finally:
        gp.close()
        set_default(None)


def decode_front_token(value: str) -> dict[str, Any]:
    return dict(json.loads(base64.b64decode(value)))


def cookie_headers(response: httpx.Response) -> dict[str, str]:
    """Set-Cookie headers by cookie name (the last one wins)."""
    result: dict[str, str] = {}
    for header in response.headers.get_list("set-cookie"):
        result[header.split("=", 1)[0]] = header
    return result


@pytest.fixture(params=[f"{f}-{c}" for f in ("fastapi", "flask") for c in ("embedded", "remote")])
def kind(request: pytest.FixtureRequest) -> tuple[str, str, CoreProcess | None]:
    """An async and a sync framework, each with an embedded and a remote core: ``(framework, mode, remote)``."""
    framework, mode = request.param.split("-")
    return framework, mode, request.getfixturevalue("remote_core") if mode == "remote" else None
