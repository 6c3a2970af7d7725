"""The pure decision modules, tested directly: encodings, rotation decisions, key schedule, routing, app config."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatepass.core.app_config import AppConfig, build_app_config
from gatepass.core.rotation import RefreshOutcome, decide_promotion, decide_refresh, decide_refresh_with_grace
from gatepass.core.routing import Route, split_path
from gatepass.errors import ConfigurationError
from gatepass.storage.contract import SessionRow
from gatepass.tokens import key_schedule
from gatepass.tokens.encoding import EncodingError, b64url_decode, b64url_encode, json_object, secret_equals
from gatepass.tokens.key_schedule import KeyTimes
from tests.fuzz_settings import fuzz_settings


def H(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# encoding -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("data", [b"", b"f", b"fo", b"foo", b"\xff\xfe\xfd", bytes(range(256))])
def test_b64url_round_trip(data: bytes) -> None:
    assert b64url_decode(b64url_encode(data)) == data


@pytest.mark.parametrize("text", ["Zg==", "Zg=", "Z+8", "Z/8", " Zg", "Zg\n", "Zh", "Z", "Zm9v!"])
def test_b64url_rejects_non_canonical(text: str) -> None:
    with pytest.raises(EncodingError):
        b64url_decode(text)


def _canonical_reference(text: str) -> bytes | None:
    """The rule, spelled out slowly: only the URL alphabet, no padding, zero unused bits; the decoded bytes."""
    if len(text) % 4 == 1 or not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        return None
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return data if b64url_encode(data) == text else None


@given(st.text(alphabet=st.sampled_from("AZaz09-_+/= \n\t!é\x00") | st.characters(), max_size=24))
@fuzz_settings()
def test_b64url_decode_is_exactly_the_canonical_rule(text: str) -> None:
    expected = _canonical_reference(text)
    if expected is None:
        with pytest.raises(EncodingError):
            b64url_decode(text)
    else:
        assert b64url_decode(text) == expected


@pytest.mark.parametrize("raw", [b'{"a":1,"a":2}', b"[1]", b"1", b'{"a":NaN}', b'{"a":Infinity}', b"\xff", b"{"])
def test_json_object_is_strict(raw: bytes) -> None:
    with pytest.raises(EncodingError):
        json_object(raw)


def test_secret_equals() -> None:
    assert secret_equals("abc", "abc")
    assert not secret_equals("abc", "abd")
    assert not secret_equals(None, None) and not secret_equals("a", None)


# rotation decisions ----------------------------------------------------------------------------------------------
def _promoted_row(superseded: str | None = "rt0", current: str = "rt1", at: int | None = 1_000) -> SessionRow:
    """A session whose ``current`` token superseded ``superseded`` at ``at``."""
    return SessionRow(
        "public", "h", "public", "u", H(H(current)), {}, {}, 10**12, 0, False,
        previous_refresh_token_hash2=None if superseded is None else H(H(superseded)),
        superseded_at_ms=at,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("token", "parent", "now", "grace", "expected"),
    [
        ("rt0", None, 1_000, 10, RefreshOutcome.GRACE),  # the superseded token itself
        ("rt1b", "rt0", 1_009, 10, RefreshOutcome.GRACE),  # a sibling of current, at the window's last ms
        ("rt1b", "rt0", 1_010, 10, RefreshOutcome.THEFT),  # the window has closed
        ("rt1b", "rt0", 1_005, 0, RefreshOutcome.THEFT),  # no grace period
        ("rtx", "rt-1", 1_005, 10, RefreshOutcome.THEFT),  # an older branch
        ("rtx", None, 1_005, 10, RefreshOutcome.THEFT),
        ("rt1", "rt0", 1_005, 10, RefreshOutcome.CURRENT),  # current wins over grace
        ("rt2", "rt1", 1_005, 10, RefreshOutcome.PROMOTE),
    ],
)
def test_refresh_decision_with_a_grace_window(
    token: str, parent: str | None, now: int, grace: int, expected: RefreshOutcome
) -> None:
    row = _promoted_row()
    assert decide_refresh_with_grace(row, H(token), None if parent is None else H(parent), now, grace) is expected


@pytest.mark.parametrize(
    "row", [_promoted_row(superseded=None), _promoted_row(at=None), replace(_promoted_row(), superseded_at_ms=None)]
)
def test_no_window_without_its_record(row: SessionRow) -> None:
    """A used window (previous cleared), or a row from before schema 3 (neither recorded), gives no grace."""
    assert decide_refresh_with_grace(row, H("rt0"), None, 1_001, 10) is RefreshOutcome.THEFT


def test_refresh_with_current_token() -> None:
    assert decide_refresh(H(H("rt0")), H("rt0"), None) is RefreshOutcome.CURRENT


def test_refresh_with_child_of_current_promotes() -> None:
    assert decide_refresh(H(H("rt0")), H("rt1"), H("rt0")) is RefreshOutcome.PROMOTE


def test_refresh_with_anything_else_is_theft() -> None:
    assert decide_refresh(H(H("rt1")), H("rt0"), None) is RefreshOutcome.THEFT
    assert decide_refresh(H(H("rt2")), H("rt1b"), H("rt0")) is RefreshOutcome.THEFT


def test_verify_decisions() -> None:
    current = H(H("rt0"))
    assert decide_promotion(current, H("rt1"), H("rt0")).promote  # child of current: promote and mint
    assert decide_promotion(current, H("rt1"), H("rt0")).mint
    already = decide_promotion(H(H("rt1")), H("rt1"), H("rt0"))
    assert not already.promote and already.mint  # promoted by someone else: mint a clean token
    older = decide_promotion(H(H("rt5")), H("rt1"), H("rt0"))
    assert not older.promote and not older.mint  # older branch: no write, no new token


# key schedule -------------------------------------------------------------------------------------------------------
@dataclass
class K:
    created_at_ms: int


HOUR = 3_600_000
TIMES = KeyTimes(update_interval_ms=HOUR, access_validity_ms=60_000)


def test_overlap_is_sixty_seconds_or_a_fifth_of_tiny_intervals() -> None:
    assert TIMES.overlap_ms == 60_000
    assert KeyTimes(1440, 1000).overlap_ms == 288


def test_new_key_due_one_overlap_before_the_interval_ends() -> None:
    assert key_schedule.needs_new_key([], 0, TIMES)
    assert not key_schedule.needs_new_key([K(0)], HOUR - 60_000, TIMES)
    assert key_schedule.needs_new_key([K(0)], HOUR - 59_999, TIMES)


def test_signing_key_waits_one_overlap_after_publication() -> None:
    keys = [K(HOUR - 59_000), K(0)]
    assert key_schedule.signing_index(keys, HOUR - 59_000, TIMES) == 1
    assert key_schedule.signing_index(keys, HOUR + 1_000, TIMES) == 0
    assert key_schedule.signing_index([K(5)], 5, TIMES) == 0  # the first key ever signs at once


def test_live_window_and_cache_age() -> None:
    assert key_schedule.is_live(K(0), HOUR + 120_000 - 1, TIMES)
    assert not key_schedule.is_live(K(0), HOUR + 120_000, TIMES)
    assert key_schedule.jwks_max_age_seconds([K(0)], 0, TIMES) == (HOUR - 60_000) // 1000
    assert key_schedule.jwks_max_age_seconds([K(0)], HOUR, TIMES) == 1
    assert key_schedule.jwks_max_age_seconds([], 0, TIMES) == 1


# routing ------------------------------------------------------------------------------------------------------------
KNOWN = {"/apiversion", "/recipe/session", "/recipe/session/refresh"}


@pytest.mark.parametrize(
    "path,route",
    [
        ("/apiversion", Route("public", "public", "/apiversion")),
        ("/apiversion/", Route("public", "public", "/apiversion")),
        ("/T1/recipe/session", Route("public", "t1", "/recipe/session")),
        ("/appid-a1/recipe/session/refresh", Route("a1", "public", "/recipe/session/refresh")),
        ("/appid-a1/t2/recipe/session", Route("a1", "t2", "/recipe/session")),
        ("/appid-public/apiversion", Route("public", "public", "/apiversion")),
    ],
)
def test_routing(path: str, route: Route) -> None:
    assert split_path(path, KNOWN) == route


@pytest.mark.parametrize(
    "path", ["/", "/nothing", "/appid-/apiversion", "/a/b/apiversion", "/appid-x/appid-y/apiversion"]
)
def test_routing_misses(path: str) -> None:
    assert split_path(path, KNOWN) is None


# app config --------------------------------------------------------------------------------------------------------
def test_app_config_accepts_strings_and_aliases() -> None:
    config = build_app_config(
        {
            "access_token_validity": "1",
            "refresh_token_validity": "720",
            "access_token_signing_key_update_interval": "0.0004",
        }
    )
    assert config == AppConfig(1, 720, 0.0004)
    assert config.key_times.update_interval_ms == 1440


def test_app_config_inherits_the_base_and_ignores_unknown_keys() -> None:
    base = AppConfig(access_token_validity=30)
    assert build_app_config({"password_hashing_alg": "ARGON2"}, base) == base


@pytest.mark.parametrize(
    "values",
    [
        {"access_token_validity": 0},
        {"access_token_validity": "x"},
        {"access_token_validity": float("nan")},
        {"access_token_validity": 7200, "refresh_token_validity": 60},
        {"access_token_dynamic_signing_key_update_interval": 0},
        {"access_token_dynamic_signing_key_update_interval": False},
    ],
)
def test_app_config_rejects_out_of_range(values: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        build_app_config(values)


@pytest.mark.parametrize(
    "value",
    [
        {"a": float("inf")},
        {"a": float("nan")},
        {"a": "\ud800"},
        {"\udfff": 1},
        {"a": 10**200},
        {"a": object()},
        {1: "x"},
        {"a": [[[[[]]]]] * 2},
    ],
)
def test_python_bodies_are_held_to_the_json_rules(value: dict[str, Any]) -> None:
    from gatepass.errors import BadRequest
    from gatepass.protocol.body import JsonBody
    from gatepass.untrusted import value_problem

    nested = {"a": [[[[[]]]]] * 2}
    if value == nested:
        assert value_problem(value, max_depth=4) is not None and value_problem(value) is None
        return
    with pytest.raises(BadRequest):
        JsonBody.from_python(value)


def test_python_bodies_that_are_json_pass() -> None:
    from gatepass.protocol.body import JsonBody

    body = JsonBody.from_python({"a": [1, 2.5, None, True, "é\U0001f600"], "b": {"c": -(10**99)}})
    assert body.mapping("b") == {"c": -(10**99)}
