"""The claim classes against supertokens-python 0.31.4's own, on the same payloads and clock: the same verdicts and
the same reasons, word for word (Hypothesis), except where gatepass is stricter on purpose (``True`` is not ``1``;
a malformed stored value reads as no value instead of raising)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from supertokens_python.recipe.session.claim_base_classes import primitive_array_claim as upstream_array
from supertokens_python.recipe.session.claim_base_classes import primitive_claim as upstream_primitive
from supertokens_python.recipe.session.claims import BooleanClaim as UpstreamBooleanClaim
from supertokens_python.recipe.session.claims import PrimitiveArrayClaim as UpstreamArrayClaim
from supertokens_python.recipe.session.claims import PrimitiveClaim as UpstreamPrimitiveClaim

from gatepass.recipe.session.claims import (
    BooleanClaim,
    ClaimValidationResult,
    PrimitiveArrayClaim,
    PrimitiveClaim,
    SessionClaimValidator,
)

NOW = 1_800_000_000_000
KEY = "st-test"
# JSON primitives without the bool/number overlap gatepass treats differently (True == 1 in Python)
PRIMITIVES = st.one_of(st.text(max_size=5), st.integers(-3, 3))
MAX_AGES = st.one_of(st.none(), st.integers(1, 100))
FETCHED = st.integers(NOW - 200_000, NOW)


def _fetch(*_: Any) -> None:
    return None


def _upstream_verdict(validator: Any, payload: dict[str, Any]) -> tuple[bool, Any, bool]:
    result = asyncio.run(validator.validate(payload, {}))
    return result.is_valid, result.reason, validator.should_refetch(payload, {})


def _verdict(validator: SessionClaimValidator, payload: dict[str, Any]) -> tuple[bool, Any, bool]:
    result = validator.validate(payload, {})
    assert isinstance(result, ClaimValidationResult)
    return result.is_valid, result.reason, bool(validator.should_refetch(payload, {}))


@pytest.fixture(autouse=True)
def upstream_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (upstream_primitive, upstream_array):
        monkeypatch.setattr(module, "get_timestamp_ms", lambda: NOW)


def _payload(value: Any, fetched_at: int | None) -> dict[str, Any]:
    return {} if fetched_at is None else {KEY: {"v": value, "t": fetched_at}, "sub": "u"}


@settings(max_examples=300, deadline=None)
@given(value=PRIMITIVES, expected=PRIMITIVES, fetched_at=st.one_of(st.none(), FETCHED), max_age=MAX_AGES)
def test_has_value_matches_upstream(value: Any, expected: Any, fetched_at: int | None, max_age: int | None) -> None:
    ours = PrimitiveClaim(KEY, _fetch, clock=lambda: NOW).validators.has_value(expected, max_age)
    theirs = UpstreamPrimitiveClaim(KEY, _fetch).validators.has_value(expected, max_age)
    payload = _payload(value, fetched_at)
    assert _verdict(ours, payload) == _upstream_verdict(theirs, payload)
    assert ours.id == theirs.id == KEY


@settings(max_examples=200, deadline=None)
@given(value=st.booleans(), fetched_at=st.one_of(st.none(), FETCHED), max_age=MAX_AGES, want=st.booleans())
def test_boolean_claim_matches_upstream(value: bool, fetched_at: int | None, max_age: int | None, want: bool) -> None:
    ours = BooleanClaim(KEY, _fetch, 50, clock=lambda: NOW).validators
    theirs = UpstreamBooleanClaim(KEY, _fetch, 50).validators
    payload = _payload(value, fetched_at)
    mine, upstream = (
        (ours.is_true(max_age), theirs.is_true(max_age)) if want else (ours.is_false(max_age), theirs.is_false(max_age))
    )
    assert _verdict(mine, payload) == _upstream_verdict(upstream, payload)


ARRAY_MODES = ["includes", "excludes", "includes_all", "includes_any", "excludes_all"]


@settings(max_examples=400, deadline=None)
@given(
    value=st.lists(PRIMITIVES, max_size=4),
    expected=st.one_of(PRIMITIVES, st.lists(PRIMITIVES, max_size=3)),
    mode=st.sampled_from(ARRAY_MODES),
    fetched_at=st.one_of(st.none(), FETCHED),
    max_age=MAX_AGES,
)
def test_array_validators_match_upstream(
    value: list[Any], expected: Any, mode: str, fetched_at: int | None, max_age: int | None
) -> None:
    if mode in ("includes", "excludes") and isinstance(expected, list):
        expected = expected[0] if expected else "x"
    if mode not in ("includes", "excludes") and not isinstance(expected, list):
        expected = [expected]
    ours = getattr(PrimitiveArrayClaim(KEY, _fetch, clock=lambda: NOW).validators, mode)(expected, max_age)
    theirs = getattr(UpstreamArrayClaim(KEY, _fetch).validators, mode)(expected, max_age)
    payload = _payload(value, fetched_at)
    assert _verdict(ours, payload) == _upstream_verdict(theirs, payload)


def test_payload_shape_and_the_methods_upstream_names() -> None:
    clock = iter([NOW, NOW + 5])
    roles = PrimitiveArrayClaim("st-role", _fetch, clock=lambda: next(clock))
    payload: dict[str, Any] = {"sub": "u"}
    assert roles.add_to_payload_(payload, ["admin"]) is payload
    assert payload == {"sub": "u", "st-role": {"v": ["admin"], "t": NOW}}
    assert roles.get_value_from_payload(payload) == ["admin"] and roles.get_last_refetch_time(payload) == NOW
    assert roles.remove_from_payload_by_merge_(dict(payload)) == {"sub": "u", "st-role": None}
    assert roles.remove_from_payload(payload) == {"sub": "u"} and roles.remove_from_payload({}) == {}
    assert roles.get_value_from_payload(payload) is None and roles.get_last_refetch_time(payload) is None


def test_build_takes_a_sync_or_an_async_fetch_value_and_adds_nothing_for_none() -> None:
    async def fetch_async(user_id: str, *_: Any) -> list[str]:
        return [f"role-of-{user_id}"]

    sync_claim = PrimitiveClaim("st-plan", lambda user_id, *_: f"plan-{user_id}", clock=lambda: NOW)
    async_claim = PrimitiveArrayClaim("st-role", fetch_async, clock=lambda: NOW)
    assert asyncio.run(sync_claim.build("u1", "u1", "public", {})) == {"st-plan": {"v": "plan-u1", "t": NOW}}
    assert asyncio.run(async_claim.build("u1", "u1", "public", {}, {})) == {"st-role": {"v": ["role-of-u1"], "t": NOW}}
    assert asyncio.run(PrimitiveClaim("st-x", _fetch).build("u1", "u1", "public", {})) == {}


HOSTILE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=3)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["v", "t", "x"]), inner)),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(stored=HOSTILE, mode=st.sampled_from(ARRAY_MODES))
def test_a_malformed_stored_value_never_raises(stored: Any, mode: str) -> None:
    payload = {KEY: stored}
    array = getattr(PrimitiveArrayClaim(KEY, _fetch, clock=lambda: NOW).validators, mode)(["a"], 10)
    primitive = PrimitiveClaim(KEY, _fetch, clock=lambda: NOW).validators.has_value("a", 10)
    for validator in (array, primitive):
        verdict = validator.validate(payload, {})
        assert isinstance(verdict, ClaimValidationResult)
        assert isinstance(validator.should_refetch(payload, {}), bool)


def test_json_equality_is_stricter_than_pythons() -> None:
    flag = BooleanClaim("st-ev", _fetch, clock=lambda: NOW)
    assert flag.validators.is_true().validate({"st-ev": {"v": 1, "t": NOW}}, {}).is_valid is False
    assert flag.validators.is_true().validate({"st-ev": {"v": True, "t": NOW}}, {}).is_valid is True
    roles = PrimitiveArrayClaim("st-role", _fetch, clock=lambda: NOW)
    assert roles.validators.includes(1).validate({"st-role": {"v": [True], "t": NOW}}, {}).is_valid is False
    assert roles.validators.includes(1).validate({"st-role": {"v": [1.0], "t": NOW}}, {}).is_valid is True
