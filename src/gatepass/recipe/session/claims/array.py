"""``PrimitiveArrayClaim`` (supertokens-python's ``claim_base_classes``): a list of JSON primitives (roles,
permissions), checked with ``includes``, ``excludes``, ``includes_all``, ``includes_any`` and ``excludes_all``,
optionally no older than ``max_age_in_seconds``. Verdicts and reasons are upstream's; membership compares JSON
values (``True`` is not ``1``), and a stored value that is not a list reads as no value."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gatepass.recipe.session.claims.base import (
    ClaimValidationResult,
    Clock,
    FetchValue,
    SessionClaimValidator,
    StoredValueClaim,
    same_json,
    stored,
)
from gatepass.recipe.session.claims.primitive import expired, too_old

INCLUDE, EXCLUDE, INCLUDE_ANY = "include", "exclude", "include_any"
EXPECTED_KEY = {
    INCLUDE: "expectedToInclude",
    EXCLUDE: "expectedToNotInclude",
    INCLUDE_ANY: "expectedToIncludeAtLeastOneOf",
}


def _contains(values: list[Any], item: Any) -> bool:
    return any(same_json(value, item) for value in values)


def verdict(mode: str, expected: Any, actual: list[Any]) -> bool:
    """Whether ``actual`` passes: every expected item in it (include), none (exclude), at least one (include_any);
    ``expected`` is one item or a list of them."""
    wanted = expected if isinstance(expected, list) else [expected]
    if mode == INCLUDE:
        return all(_contains(actual, item) for item in wanted)
    if mode == EXCLUDE:
        return not any(_contains(actual, item) for item in wanted)
    return any(_contains(actual, item) for item in wanted)


class ArraySCV(SessionClaimValidator):
    """One of the array validators: ``mode`` says which (see ``verdict``)."""

    def __init__(
        self, id_: str, claim: PrimitiveArrayClaim, val: Any, mode: str, max_age_in_sec: int | None = None
    ) -> None:
        super().__init__(id_)
        self.claim: PrimitiveArrayClaim = claim
        self.val = val
        self.mode = mode
        self.max_age_in_sec = max_age_in_sec

    def should_refetch(self, payload: dict[str, Any], user_context: dict[str, Any] | None = None) -> bool:
        """No value yet, or one older than ``max_age_in_sec``."""
        value = self.claim.get_value_from_payload(payload)
        fetched_at = self.claim.get_last_refetch_time(payload) or 0
        return value is None or too_old(fetched_at, self.max_age_in_sec, self.claim.clock())

    def validate(self, payload: dict[str, Any], user_context: dict[str, Any] | None = None) -> ClaimValidationResult:
        """Upstream's verdicts, in its order: "value does not exist", "expired", "wrong value"."""
        key = EXPECTED_KEY[self.mode]
        value = self.claim.get_value_from_payload(payload)
        if value is None:
            return ClaimValidationResult(False, {"message": "value does not exist", key: self.val, "actualValue": None})
        fetched_at = self.claim.get_last_refetch_time(payload) or 0
        too_late = expired(fetched_at, self.max_age_in_sec, self.claim.clock())
        if too_late is not None:
            return too_late
        if not verdict(self.mode, self.val, value):
            return ClaimValidationResult(False, {"message": "wrong value", key: self.val, "actualValue": value})
        return ClaimValidationResult(True)


class PrimitiveArrayClaimValidators:
    """``claim.validators``. A ``max_age_in_seconds`` of ``None`` (or 0, as upstream reads it) takes the claim's
    default; the validator's id is ``id_`` or the claim's key."""

    def __init__(self, claim: PrimitiveArrayClaim, default_max_age_in_sec: int | None = None) -> None:
        self.claim = claim
        self.default_max_age_in_sec = default_max_age_in_sec

    def _validator(self, val: Any, mode: str, max_age: int | None, id_: str | None) -> SessionClaimValidator:
        return ArraySCV(id_ or self.claim.key, self.claim, val, mode, max_age or self.default_max_age_in_sec)

    def includes(
        self, val: Any, max_age_in_seconds: int | None = None, id_: str | None = None
    ) -> SessionClaimValidator:
        """The list contains ``val``."""
        return self._validator(val, INCLUDE, max_age_in_seconds, id_)

    def excludes(
        self, val: Any, max_age_in_seconds: int | None = None, id_: str | None = None
    ) -> SessionClaimValidator:
        """The list does not contain ``val``."""
        return self._validator(val, EXCLUDE, max_age_in_seconds, id_)

    def includes_all(
        self, val: list[Any], max_age_in_seconds: int | None = None, id_: str | None = None
    ) -> SessionClaimValidator:
        """The list contains every item of ``val``."""
        return self._validator(val, INCLUDE, max_age_in_seconds, id_)

    def includes_any(
        self, val: list[Any], max_age_in_seconds: int | None = None, id_: str | None = None
    ) -> SessionClaimValidator:
        """The list contains at least one item of ``val``."""
        return self._validator(val, INCLUDE_ANY, max_age_in_seconds, id_)

    def excludes_all(
        self, val: list[Any], max_age_in_seconds: int | None = None, id_: str | None = None
    ) -> SessionClaimValidator:
        """The list contains no item of ``val``."""
        return self._validator(val, EXCLUDE, max_age_in_seconds, id_)


class PrimitiveArrayClaim(StoredValueClaim[list[Any]]):
    """A claim holding a list of JSON primitives."""

    def __init__(
        self,
        key: str,
        fetch_value: FetchValue,
        default_max_age_in_sec: int | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(key, fetch_value, clock=clock)
        self.validators = PrimitiveArrayClaimValidators(self, default_max_age_in_sec)

    def get_value_from_payload(
        self, payload: Mapping[str, Any], user_context: dict[str, Any] | None = None
    ) -> list[Any] | None:
        """The stored list, or ``None`` (also when what is stored is no list)."""
        value, _ = stored(payload, self.key)
        return value if isinstance(value, list) else None
