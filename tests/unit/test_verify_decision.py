"""The one verify decision (``gatepass.protocol.verify``), tested directly: every outcome, the order of the checks,
and the property the core and the SDK rely on — the signature is checked once, and only ``Accept`` or
``NeedsCore`` ever carries a verified token."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatepass.protocol.verify import (
    Accept,
    NeedsCore,
    TryRefresh,
    UnknownKey,
    VerifyRules,
    decide_verify,
)
from gatepass.tokens import access_token
from gatepass.tokens.access_token import SessionClaims
from gatepass.tokens.keys import SigningKey, generate_rsa_key, make_signing_key
from tests.fuzz_settings import fuzz_settings

NOW = 1_800_000_000
DYNAMIC = make_signing_key("d-1", "dynamic", 0, generate_rsa_key())
STATIC = make_signing_key("s-1", "static", 0, generate_rsa_key())
CLAIMS = SessionClaims("user-1", "handle-1", "public", "rth1", None, "csrf-1", NOW - 10, NOW + 60)


class CountingKeys:
    """A key lookup that counts how often each kid is asked for (a signature check asks once)."""

    def __init__(self, *keys: SigningKey) -> None:
        self.keys = {key.kid: key for key in keys}
        self.asked: list[str] = []

    def __call__(self, kid: str) -> SigningKey | None:
        self.asked.append(kid)
        return self.keys.get(kid)


def _token(claims: SessionClaims = CLAIMS, key: SigningKey = DYNAMIC) -> str:
    return access_token.mint(claims, {"role": "reader"}, key)


def test_a_valid_token_is_accepted_locally() -> None:
    keys = CountingKeys(DYNAMIC)
    decision = decide_verify(_token(), VerifyRules(), keys, NOW)
    assert isinstance(decision, Accept)
    assert decision.verified.claims.session_handle == "handle-1"
    assert decision.verified.custom_claims == {"role": "reader"}
    assert keys.asked == ["d-1"]  # one lookup, one signature check


def test_a_refreshed_token_needs_the_core_to_promote_it() -> None:
    child = replace(CLAIMS, parent_refresh_token_hash1="prth1")
    decision = decide_verify(_token(child), VerifyRules(), CountingKeys(DYNAMIC), NOW)
    assert isinstance(decision, NeedsCore) and decision.promote


def test_check_database_needs_the_core_without_promotion() -> None:
    decision = decide_verify(_token(), VerifyRules(check_database=True), CountingKeys(DYNAMIC), NOW)
    assert isinstance(decision, NeedsCore) and not decision.promote


def test_an_expired_token_is_try_refresh_and_only_that_is_an_expiry() -> None:
    decision = decide_verify(_token(), VerifyRules(), CountingKeys(DYNAMIC), NOW + 60)
    assert isinstance(decision, TryRefresh) and decision.kind == "expired" and decision.is_expiry
    allowed = decide_verify(_token(), VerifyRules(), CountingKeys(DYNAMIC), NOW + 60, allow_expired=True)
    assert isinstance(allowed, Accept)  # regenerate asks whose session it is, even when expired


def test_an_unknown_kid_is_reported_without_a_signature_check() -> None:
    keys = CountingKeys()
    decision = decide_verify(_token(), VerifyRules(), keys, NOW)
    assert decision == UnknownKey("d-1")
    assert keys.asked == ["d-1"]


@pytest.mark.parametrize("garbage", ["", "a.b", "a.b.c", "x" * 10_000, "e30.e30.e30"])
def test_garbage_is_invalid(garbage: str) -> None:
    decision = decide_verify(garbage, VerifyRules(), CountingKeys(DYNAMIC), NOW)
    assert isinstance(decision, TryRefresh) and decision.kind == "invalid" and not decision.is_expiry


def test_a_forged_signature_is_invalid() -> None:
    impostor = make_signing_key("d-1", "dynamic", 0, generate_rsa_key())  # our kid, someone else's key
    decision = decide_verify(_token(key=impostor), VerifyRules(), CountingKeys(DYNAMIC), NOW)
    assert isinstance(decision, TryRefresh) and decision.reason == "invalid signature"


@pytest.mark.parametrize(("key", "expected_dynamic"), [(DYNAMIC, False), (STATIC, True)])
def test_the_sdk_refuses_a_key_of_the_other_kind(key: SigningKey, expected_dynamic: bool) -> None:
    rules = VerifyRules(expected_dynamic_key=expected_dynamic)
    decision = decide_verify(_token(key=key), rules, CountingKeys(DYNAMIC, STATIC), NOW)
    assert isinstance(decision, TryRefresh) and decision.kind == "key_kind"
    same_kind = VerifyRules(expected_dynamic_key=not expected_dynamic)
    assert isinstance(decide_verify(_token(key=key), same_kind, CountingKeys(DYNAMIC, STATIC), NOW), Accept)


@pytest.mark.parametrize("presented", [None, "", "csrf-2", "csrf-1 "])
def test_anti_csrf_is_compared_when_asked(presented: str | None) -> None:
    rules = VerifyRules(anti_csrf_token=presented, check_anti_csrf=True)
    decision = decide_verify(_token(), rules, CountingKeys(DYNAMIC), NOW)
    assert isinstance(decision, TryRefresh) and decision.kind == "anti_csrf"
    unchecked = replace(rules, check_anti_csrf=False)
    assert isinstance(decide_verify(_token(), unchecked, CountingKeys(DYNAMIC), NOW), Accept)


def test_the_right_anti_csrf_token_passes_and_then_promotion_still_applies() -> None:
    child = replace(CLAIMS, parent_refresh_token_hash1="prth1")
    rules = VerifyRules(anti_csrf_token="csrf-1", check_anti_csrf=True)
    decision = decide_verify(_token(child), rules, CountingKeys(DYNAMIC), NOW)
    assert isinstance(decision, NeedsCore) and decision.promote


def test_a_bad_anti_csrf_token_never_reaches_the_core() -> None:
    """The anti-CSRF check comes before the database: a cross-site request cannot make the core promote."""
    child = replace(CLAIMS, parent_refresh_token_hash1="prth1")
    rules = VerifyRules(anti_csrf_token="wrong", check_anti_csrf=True, check_database=True)
    assert isinstance(decide_verify(_token(child), rules, CountingKeys(DYNAMIC), NOW), TryRefresh)


def test_rules_do_not_print_the_anti_csrf_token() -> None:
    assert "csrf-1" not in repr(VerifyRules(anti_csrf_token="csrf-1", check_anti_csrf=True))


@fuzz_settings()
@given(
    st.sampled_from(["", "csrf-1", None]),
    st.booleans(),
    st.booleans(),
    st.sampled_from([None, "prth1"]),
    st.integers(NOW - 100, NOW + 100),
)
def test_every_decision_is_consistent(
    presented: str | None, check_anti_csrf: bool, check_database: bool, prth1: str | None, now: int
) -> None:
    claims = replace(CLAIMS, parent_refresh_token_hash1=prth1)
    rules = VerifyRules(presented, check_anti_csrf, check_database)
    keys = CountingKeys(DYNAMIC)
    decision = decide_verify(_token(claims), rules, keys, now)
    assert keys.asked == ["d-1"]
    if now >= claims.expires_at or now < claims.issued_at:
        assert isinstance(decision, TryRefresh)
    elif check_anti_csrf and presented != "csrf-1":
        assert isinstance(decision, TryRefresh) and decision.kind == "anti_csrf"
    elif check_database or prth1 is not None:
        assert isinstance(decision, NeedsCore) and decision.promote == (prth1 is not None)
    else:
        assert isinstance(decision, Accept)
