"""Checklist item 35 on the SDK side (issue 8 defect 11): the refresh API limits failed refreshes per client
address in every adapter, answering 429 with ``Retry-After``; other addresses, and successes, are not affected.

Clients on 127.0.0.2 and 127.0.0.3 are other addresses on this machine's loopback network."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from gatepass.ratelimit import BucketSpec
from gatepass.recipe.instance import set_default
from gatepass.recipe.session import syncio
from gatepass.recipe.session.core_client import EmbeddedCore, RemoteCore
from tests.helpers import API_KEY, running_core
from tests.sdk.conftest import FRAMEWORKS, build_gatepass, running_app

REFRESH = "/auth/session/refresh"


def _client(url: str, source: str) -> httpx.Client:
    return httpx.Client(base_url=url, transport=httpx.HTTPTransport(local_address=source), timeout=30)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_defect_11_sec_35_sdk_refresh_api_limits_failures_per_address(framework: str, tmp_path: Path) -> None:
    core = EmbeddedCore(f"sqlite:///{tmp_path / 'core.db'}")
    gp = build_gatepass(framework, core, refresh_rate_limit=BucketSpec(3, 0.01))
    try:
        with running_app(framework, gp) as url:
            with _client(url, "127.0.0.2") as attacker:
                bad = {"authorization": "Bearer gp1.not-a-token", "rid": "session"}
                answers = [attacker.post(REFRESH, headers=bad) for _ in range(5)]
                assert [a.status_code for a in answers] == [401, 401, 401, 429, 429]
                assert int(answers[-1].headers["retry-after"]) >= 1
            created = syncio.create_new_session_without_request_response("public", "user-35", {}, gatepass=gp)
            refresh_token = created.get_all_session_tokens_dangerously()["refreshToken"]
            assert refresh_token is not None
            with _client(url, "127.0.0.3") as browser:
                good = {"authorization": f"Bearer {refresh_token}", "rid": "session"}
                assert browser.post(REFRESH, headers=good).status_code == 200
                for _ in range(5):  # successes cost nothing
                    assert browser.post(REFRESH, headers=good).status_code in (200, 401)
    finally:
        gp.close()
        set_default(None)


def test_sec_35_sdk_refresh_limit_can_be_switched_off(tmp_path: Path) -> None:
    gp = build_gatepass(
        "fastapi", EmbeddedCore(f"sqlite:///{tmp_path / 'core.db'}"), refresh_rate_limit=BucketSpec(0, 0)
    )
    try:
        with running_app("fastapi", gp) as url, _client(url, "127.0.0.2") as client:
            bad = {"authorization": "Bearer gp1.not-a-token", "rid": "session"}
            assert {client.post(REFRESH, headers=bad).status_code for _ in range(50)} == {401}
    finally:
        gp.close()


def test_defect_11_sec_35_sdk_default_limit_answers_429_to_a_burst(tmp_path: Path) -> None:
    gp = build_gatepass("fastapi", EmbeddedCore(f"sqlite:///{tmp_path / 'core.db'}"))
    try:
        with running_app("fastapi", gp) as url, _client(url, "127.0.0.2") as client:
            bad = {"authorization": "Bearer gp1.not-a-token", "rid": "session"}
            assert {client.post(REFRESH, headers=bad).status_code for _ in range(40)} == {401, 429}
    finally:
        gp.close()


def test_sec_35_a_core_that_keeps_answering_429_is_a_503_not_a_500(tmp_path: Path) -> None:
    """The core limits a backend that relays too many failing refreshes; the SDK retries, then answers 503."""
    log = tmp_path / "core.log"
    args = ["--api-key", API_KEY, "--rate-limit-failed-refreshes", "2/0.001"]
    with running_core(f"sqlite:///{tmp_path / 'core.db'}", log, args) as core:
        gp = build_gatepass("fastapi", RemoteCore(core.url, API_KEY), refresh_rate_limit=BucketSpec(0, 0))
        try:
            with running_app("fastapi", gp) as url, httpx.Client(base_url=url, timeout=60) as client:
                bad = {"authorization": "Bearer gp1.not-a-token", "rid": "session"}
                statuses = [client.post(REFRESH, headers=bad).status_code for _ in range(3)]
                assert statuses == [401, 401, 503]
        finally:
            gp.close()


def test_sec_35_a_refresh_without_any_token_is_not_a_failure(tmp_path: Path) -> None:
    """supertokens-website calls refresh after a 401 even when it holds no session: that guesses nothing."""
    gp = build_gatepass(
        "fastapi", EmbeddedCore(f"sqlite:///{tmp_path / 'core.db'}"), refresh_rate_limit=BucketSpec(2, 0.01)
    )
    try:
        with running_app("fastapi", gp) as url, _client(url, "127.0.0.2") as client:
            assert {client.post(REFRESH, headers={"rid": "session"}).status_code for _ in range(10)} == {401}
    finally:
        gp.close()
