"""Checklist item 35 and issue 8 defect 11: failed API keys, refresh tokens and access tokens from one client
address are limited (429 with ``Retry-After``), other addresses are not affected, and the limit can be turned off.

Clients on 127.0.0.2 and 127.0.0.3 are other addresses on this machine's loopback network (Linux routes all of
127.0.0.0/8 to ``lo``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gatepass.core.http_app import CoreHttpApp
from gatepass.core.runtime import CoreRuntime
from gatepass.core.settings import RateLimits, resolve_settings
from gatepass.errors import ConfigurationError
from gatepass.ratelimit import BucketSpec, FailureLimiter, client_key
from tests.core.conftest import FakeClock, create_session
from tests.helpers import API_KEY, running_core, serve_in_thread

ACCESS_TOKEN_EXPIRED = "Access token is not valid: token expired"  # the answer to an expired token, as upstream


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# the limiter itself, with an injected clock ------------------------------------------------------------------
def test_sec_35_bucket_allows_a_burst_then_refills_at_its_rate() -> None:
    clock = Clock()
    limiter = FailureLimiter(BucketSpec(burst=3, per_second=0.5), clock=clock)
    assert [limiter.retry_after("a") for _ in range(2)] == [None, None]  # testing costs nothing
    assert [limiter.charge("a") for _ in range(3)] == [False, False, True]  # the third used the last allowance
    assert limiter.retry_after("a") == 2  # one token at 0.5/s
    assert limiter.retry_after("b") is None
    clock.now += 1.9
    assert limiter.retry_after("a") == 1
    clock.now += 0.1
    assert limiter.retry_after("a") is None
    clock.now += 3600
    assert [limiter.charge("a") for _ in range(3)] == [False, False, True]  # never more than the burst


def test_sec_35_concurrent_failures_lengthen_the_wait_and_alert_once() -> None:
    clock = Clock()
    limiter = FailureLimiter(BucketSpec(burst=3, per_second=0.5), clock=clock)
    # six failures that all passed the check before any was charged (in flight together)
    assert [limiter.charge("a") for _ in range(6)] == [False, False, True, False, False, False]
    assert limiter.retry_after("a") == 8  # from -3 back to 1 at 0.5/s
    assert [limiter.charge("a") for _ in range(50)].count(True) == 0  # never below -burst, no second alert
    assert limiter.retry_after("a") == 8
    clock.now += 8
    assert limiter.retry_after("a") is None
    assert limiter.charge("a") is False  # still within the same lockout (not refilled): no new alert
    clock.now += 3600
    assert [limiter.charge("a") for _ in range(3)] == [False, False, True]  # a new lockout alerts again


def test_sec_35_ipv6_clients_count_per_slash_64() -> None:
    limiter = FailureLimiter(BucketSpec(burst=2, per_second=0.001), clock=Clock())
    limiter.charge("2001:db8:1:2::1")
    limiter.charge("2001:db8:1:2:ffff::9")
    assert limiter.retry_after("2001:db8:1:2::abcd") is not None
    assert limiter.retry_after("2001:db8:1:3::1") is None
    assert client_key("10.1.2.3") == "10.1.2.3" and client_key("not an address:") == "not an address:"


@pytest.mark.parametrize("burst,rate", [(0.5, 1), (5, 0), (0, 1), (-1, 1), (float("inf"), 1), (1, float("nan"))])
def test_sec_35_bucket_specs_that_make_no_sense_are_refused(burst: float, rate: float) -> None:
    with pytest.raises(ValueError):
        BucketSpec(burst, rate)


def test_sec_35_bucket_memory_is_bounded_under_address_spraying() -> None:
    limiter = FailureLimiter(BucketSpec(burst=1, per_second=0.001), clock=Clock(), max_clients=100)
    for i in range(1000):
        limiter.charge(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter._buckets) == 100  # the bound is the point of the test


def test_sec_35_a_zero_burst_switches_the_limit_off() -> None:
    limiter = FailureLimiter(BucketSpec(burst=0, per_second=0), clock=Clock())
    for _ in range(100):
        limiter.charge("a")
    assert limiter.retry_after("a") is None


# the core over HTTP ---------------------------------------------------------------------------------------------
def _client(base_url: str, source: str, api_key: str = API_KEY) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=source)
    return httpx.Client(
        base_url=base_url, headers={"api-key": api_key, "cdi-version": "5.4"}, transport=transport, timeout=30
    )


@pytest.fixture
def limited_core(runtime: CoreRuntime) -> Iterator[str]:
    limits = RateLimits(
        failed_api_keys=BucketSpec(5, 0.01), failed_refreshes=BucketSpec(5, 0.01), failed_verifies=BucketSpec(5, 0.01)
    )
    with serve_in_thread(CoreHttpApp(runtime, [API_KEY], limits)) as base_url:
        yield base_url


def test_defect_11_sec_35_bad_api_keys_get_429_with_retry_after_and_only_for_that_address(limited_core: str) -> None:
    with _client(limited_core, "127.0.0.2", api_key="wrong-key-0123456789-abcdef") as attacker:
        statuses = [attacker.get("/recipe/session/user", params={"userId": "u"}).status_code for _ in range(8)]
        assert statuses == [401] * 5 + [429] * 3
        blocked = attacker.get("/recipe/session/user", params={"userId": "u"})
        assert int(blocked.headers["retry-after"]) >= 1
        assert "Invalid API key" not in blocked.text
    with _client(limited_core, "127.0.0.3") as backend:
        assert backend.get("/recipe/session/user", params={"userId": "u"}).status_code == 200
    with _client(limited_core, "127.0.0.2") as backend_on_the_same_address:  # a right key always passes
        assert backend_on_the_same_address.get("/recipe/session/user", params={"userId": "u"}).status_code == 200


def test_sec_35_invalid_refresh_tokens_get_429_and_other_addresses_still_refresh(limited_core: str) -> None:
    with _client(limited_core, "127.0.0.3") as backend:
        created = create_session(backend)
    body = {"refreshToken": "not-a-token", "enableAntiCsrf": False, "useDynamicSigningKey": True}
    with _client(limited_core, "127.0.0.2") as attacker:
        answers = [attacker.post("/recipe/session/refresh", json=body) for _ in range(7)]
        assert [a.status_code for a in answers] == [200] * 5 + [429] * 2
        assert all(a.json()["status"] == "UNAUTHORISED" for a in answers[:5])
        assert "retry-after" in answers[-1].headers
        real = {**body, "refreshToken": created["refreshToken"]["token"]}
        assert attacker.post("/recipe/session/refresh", json=real).status_code == 429  # blocked before evaluation
    with _client(limited_core, "127.0.0.3") as backend:
        assert backend.post("/recipe/session/refresh", json=real).json()["status"] == "OK"


def test_sec_35_expired_access_tokens_and_ended_sessions_are_not_failures(limited_core: str, clock: FakeClock) -> None:
    with _client(limited_core, "127.0.0.2") as backend:
        created = [create_session(backend) for _ in range(8)]
        for session in created:  # the sessions end: their refresh tokens are real, but find nothing
            handle = session["session"]["handle"]
            backend.post("/recipe/session/remove", json={"sessionHandles": [handle]})
        ended = {"refreshToken": "", "enableAntiCsrf": False, "useDynamicSigningKey": True}
        for session in created:
            ended["refreshToken"] = session["refreshToken"]["token"]
            assert backend.post("/recipe/session/refresh", json=ended).json()["status"] == "UNAUTHORISED"
        clock.advance(3_600_000)  # every access token has expired
        for session in created:
            body = {"accessToken": session["accessToken"]["token"], "doAntiCsrfCheck": False}
            answer = backend.post("/recipe/session/verify", json=body).json()
            assert answer == {"status": "TRY_REFRESH_TOKEN", "message": ACCESS_TOKEN_EXPIRED}


def test_defect_11_sec_35_invalid_access_tokens_get_429(limited_core: str) -> None:
    with _client(limited_core, "127.0.0.2") as attacker:
        body = {"accessToken": "a.b.c", "doAntiCsrfCheck": False}
        statuses = [attacker.post("/recipe/session/verify", json=body).status_code for _ in range(7)]
        assert statuses == [200] * 5 + [429] * 2


def test_sec_35_successes_are_never_charged(limited_core: str) -> None:
    with _client(limited_core, "127.0.0.2") as backend:
        created = create_session(backend)
        token = created["accessToken"]["token"]
        body = {"accessToken": token, "doAntiCsrfCheck": False}
        assert all(backend.post("/recipe/session/verify", json=body).status_code == 200 for _ in range(30))


def test_defect_11_sec_35_defaults_answer_429_to_a_burst_of_invalid_refresh_tokens(runtime: CoreRuntime) -> None:
    with serve_in_thread(CoreHttpApp(runtime, [API_KEY])) as base_url, _client(base_url, "127.0.0.2") as c:
        body = {"refreshToken": "x" * 40, "enableAntiCsrf": False, "useDynamicSigningKey": True}
        statuses = {c.post("/recipe/session/refresh", json=body).status_code for _ in range(260)}
        assert statuses == {200, 429}


def test_sec_35_limits_can_be_switched_off(runtime: CoreRuntime) -> None:
    app = CoreHttpApp(runtime, [API_KEY], RateLimits.off())
    with serve_in_thread(app) as base_url, _client(base_url, "127.0.0.2", api_key="x" * 30) as c:
        assert {c.get("/recipe/session/user", params={"userId": "u"}).status_code for _ in range(60)} == {401}


# configuration ---------------------------------------------------------------------------------------------------
def test_sec_35_rate_limits_are_settings_from_every_source() -> None:
    settings = resolve_settings(
        {"rate_limit_failed_refreshes": "10/0.5"},
        {"GATEPASS_RATE_LIMIT_FAILED_API_KEYS": "off"},
        {"rate_limit_failed_verifies": "7/2"},
    )
    assert settings.rate_limits == RateLimits(BucketSpec(0, 0), BucketSpec(10, 0.5), BucketSpec(7, 2))
    assert resolve_settings({}, {}).rate_limits == RateLimits()


@pytest.mark.parametrize(
    "value",
    ["20", "a/b", "0/1", "5/0", "5/-1", "nan/1", "1e309/1", "5/inf", "1" * 5000 + "/1", "5\x00/1", "x" * 1_000_000],
)
def test_sec_35_bad_rate_limit_settings_name_their_source(value: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        resolve_settings({}, {"GATEPASS_RATE_LIMIT_FAILED_REFRESHES": value})
    assert "GATEPASS_RATE_LIMIT_FAILED_REFRESHES" in raised.value.message and "BURST/PER_SECOND" in raised.value.message


def test_sec_35_a_real_core_process_limits_bad_api_keys(tmp_path: Path) -> None:
    args = ["--api-key", API_KEY, "--rate-limit-failed-api-keys", "3/0.01"]
    with running_core(f"sqlite:///{tmp_path / 'core.db'}", tmp_path / "core.log", args) as core:
        headers = {"api-key": "wrong-key-0123456789-abcdef"}
        statuses = [httpx.get(core.url + "/apiversion", headers=headers).status_code for _ in range(5)]
        assert statuses == [401, 401, 401, 429, 429]
        assert "rate limit reached" in core.log()
