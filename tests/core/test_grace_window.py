"""The refresh grace window (issue 13 item 5; supertokens-core#1300/#1301) through the CDI endpoints, on SQLite and
PostgreSQL, with an injected clock: a refresh token just superseded by a promotion (the superseded token itself, or
a sibling of the new current) may be used **once** within ``refresh_token_grace_period`` and gets a fresh current
token; outside the window, a second time, or for an older token, it is theft as before. The invariant is
``core.rotation``'s docstring; the boundary is checked millisecond by millisecond, the "once" under parallel
requests (here, one process; two processes in ``test_multi_process``)."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from gatepass.core.app_config import AppConfig, build_app_config
from gatepass.core.runtime import CoreRuntime
from gatepass.core.settings import resolve_settings
from gatepass.errors import ConfigurationError
from tests.core.conftest import FakeClock, create_session, refresh, segments, verify

GRACE_S = 10
GRACE_MS = GRACE_S * 1000
THEFT = "TOKEN_THEFT_DETECTED"


@pytest.fixture
def app_config() -> AppConfig:
    return AppConfig(access_token_validity=60, refresh_token_validity=60, refresh_token_grace_period=GRACE_S)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _token(reply: dict[str, Any], kind: str = "refreshToken") -> str:
    assert reply["status"] == "OK", reply
    token: str = reply[kind]["token"]
    return token


def _race(client: httpx.Client) -> tuple[dict[str, Any], str, str]:
    """Two tabs refresh one token P at once (children C and X); C is used first and promoted."""
    created = create_session(client, "tabs")
    parent = _token(created)
    first, second = refresh(client, parent), refresh(client, parent)
    assert refresh(client, _token(first))["status"] == "OK"  # C is promoted by its first use
    return created, parent, _token(second)


def test_a_displaced_sibling_converges_on_the_current_lineage(client: httpx.Client, clock: FakeClock) -> None:
    created, _, sibling = _race(client)
    clock.advance(GRACE_MS - 1)
    answer = refresh(client, sibling)
    assert answer["status"] == "OK" and answer["session"]["handle"] == created["session"]["handle"]
    # the answer is the current token at once: its access token verifies, and the lineage goes on, at every step
    access = _token(answer, "accessToken")
    assert segments(access)[1]["parentRefreshTokenHash1"] is None
    assert verify(client, access)["status"] == "OK"
    token = _token(answer)
    for _ in range(3):
        clock.advance(30_000)
        token = _token(refresh(client, token))


def test_the_superseded_token_itself_may_be_used_once(client: httpx.Client, clock: FakeClock) -> None:
    _, parent, _ = _race(client)
    clock.advance(1)
    converged = refresh(client, parent)
    assert converged["status"] == "OK"
    assert refresh(client, parent)["status"] == THEFT  # once: a second use is theft, even inside the window
    assert refresh(client, _token(converged))["status"] == "OK"  # the converged client was never the thief


def test_once_per_supersession_a_second_sibling_is_theft(client: httpx.Client) -> None:
    created = create_session(client, "three-tabs")
    parent = _token(created)
    winner, second, third = (refresh(client, parent) for _ in range(3))
    assert refresh(client, _token(winner))["status"] == "OK"
    assert refresh(client, _token(second))["status"] == "OK"
    assert refresh(client, _token(third))["status"] == THEFT
    assert refresh(client, _token(second))["status"] == THEFT


@pytest.mark.parametrize("offset_ms", [0, 1, GRACE_MS // 2, GRACE_MS - 1, GRACE_MS, GRACE_MS + 1, 1_800_000])
def test_the_window_closes_exactly_after_the_grace_period(
    client: httpx.Client, clock: FakeClock, offset_ms: int
) -> None:
    _, _, sibling = _race(client)
    clock.advance(offset_ms)
    expected = "OK" if offset_ms < GRACE_MS else THEFT
    assert refresh(client, sibling)["status"] == expected


def test_an_idle_gap_does_not_reopen_the_window(client: httpx.Client, clock: FakeClock) -> None:
    _, parent, sibling = _race(client)
    clock.advance(GRACE_MS)
    for token in (sibling, parent):  # nothing the window once allowed is accepted after it, however long the gap
        assert refresh(client, token)["status"] == THEFT
        clock.advance(60_000)


def test_an_older_ancestor_is_theft_inside_the_window(client: httpx.Client) -> None:
    created = create_session(client, "ancestor")
    grandparent = _token(created)
    parent = _token(refresh(client, grandparent))
    assert refresh(client, parent)["status"] == "OK"  # the parent is promoted: the grandparent is two behind
    child = _token(refresh(client, parent))
    assert refresh(client, child)["status"] == "OK"  # the child promoted: the window covers the parent only
    assert refresh(client, grandparent)["status"] == THEFT


def test_a_promotion_by_verify_opens_the_window_too(client: httpx.Client, clock: FakeClock) -> None:
    created = create_session(client, "verify")
    parent = _token(created)
    first, second = refresh(client, parent), refresh(client, parent)
    assert "accessToken" in verify(client, _token(first, "accessToken"))  # an in-flight request promotes C
    clock.advance(GRACE_MS - 1)
    assert refresh(client, _token(second))["status"] == "OK"


def test_no_back_and_forth_the_lineage_a_grace_displaced_is_theft(client: httpx.Client) -> None:
    """The grace answer displaces the lineage it joined with no window behind it: two holders cannot pass the
    session between them (here C's child, still usable before, is theft after)."""
    created = create_session(client, "ping-pong")
    parent = _token(created)
    first, second = refresh(client, parent), refresh(client, parent)
    grandchild = _token(refresh(client, _token(first)))  # C promoted; its child not yet used
    assert refresh(client, _token(second))["status"] == "OK"  # X in grace: a fresh current token
    assert refresh(client, grandchild)["status"] == THEFT


def test_the_new_token_opens_its_own_window_after_it_is_rotated(client: httpx.Client, clock: FakeClock) -> None:
    _, _, sibling = _race(client)
    converged = _token(refresh(client, sibling))
    child = _token(refresh(client, converged))
    assert refresh(client, child)["status"] == "OK"  # promoted: the converged token is now the superseded one
    clock.advance(GRACE_MS - 1)
    assert refresh(client, converged)["status"] == "OK"


@pytest.mark.parametrize("parallel", [2, 16])
def test_once_holds_under_parallel_requests(client: httpx.Client, parallel: int) -> None:
    _, _, sibling = _race(client)
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        statuses = sorted(r["status"] for r in pool.map(lambda _: refresh(client, sibling), range(parallel)))
    assert statuses == ["OK"] + [THEFT] * (parallel - 1)


def test_rows_from_before_schema_3_get_no_grace(client: httpx.Client, runtime: CoreRuntime) -> None:
    created, _, sibling = _race(client)
    with runtime.storage.transaction() as tx:  # as a row written before migration 3, not promoted since
        tx._execute("UPDATE session_info SET previous_refresh_token_hash_2 = NULL, superseded_at = NULL "
                    "WHERE session_handle = ?", (created["session"]["handle"],))  # fmt: skip
    assert refresh(client, sibling)["status"] == THEFT


def test_only_double_hashes_are_stored(client: httpx.Client, runtime: CoreRuntime) -> None:
    """Checklist 16 holds with the window: no token and no H(token) in the row, before and after a grace use."""
    created, parent, sibling = _race(client)
    answer = _token(refresh(client, sibling))
    with runtime.storage.read() as tx:
        rows = tx._fetchall("SELECT * FROM session_info WHERE session_handle = ?", (created["session"]["handle"],))
    stored = " ".join(str(value) for value in rows[0])
    for token in (parent, sibling, answer):
        assert token not in stored and _hash(token) not in stored


@pytest.mark.parametrize("app_config", [AppConfig(access_token_validity=60, refresh_token_validity=60)])
def test_without_a_grace_period_a_displaced_sibling_is_theft(client: httpx.Client) -> None:
    _, parent, sibling = _race(client)
    assert refresh(client, sibling)["status"] == THEFT
    assert refresh(client, parent)["status"] == THEFT


def test_the_grace_period_setting_is_checked() -> None:
    assert build_app_config({"refresh_token_grace_period": "10"}).grace_period_ms == 10_000
    assert AppConfig().grace_period_ms == 0  # off by default: every reuse is theft, as upstream
    for bad in (-1, 301, "nan", True, "ten", float("inf")):
        with pytest.raises(ConfigurationError):
            build_app_config({"refresh_token_grace_period": bad})
    from_env = resolve_settings({}, {"GATEPASS_REFRESH_TOKEN_GRACE_PERIOD": "30"}, {})
    assert from_env.app_config.grace_period_ms == 30_000
    app = build_app_config({"refresh_token_grace_period": 5}, base=from_env.app_config)  # per app, via coreConfig
    assert app.grace_period_ms == 5_000
