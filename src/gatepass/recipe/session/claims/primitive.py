"""``PrimitiveClaim`` and ``BooleanClaim`` (supertokens-python's ``claim_base_classes``): one JSON primitive per
claim, checked with ``has_value`` (``is_true`` / ``is_false``), optionally no older than ``max_age_in_sec``. The
reasons are upstream's, word for word: the frontend shows and matches them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from gatepass.recipe.session.claims.base import (
    ClaimValidationResult,
    Clock,
    FetchValue,
    SessionClaimValidator,
    StoredValueClaim,
    same_json,
    stored,
)

P = TypeVar("P")


def too_old(fetched_at: int, max_age_in_sec: int | None, now_ms: int) -> bool:
    """Whether a value fetched at ``fetched_at`` is past ``max_age_in_sec`` (``should_refetch``'s test)."""
    return max_age_in_sec is not None and fetched_at < now_ms - max_age_in_sec * 1000


def expired(fetched_at: int, max_age_in_sec: int | None, now_ms: int) -> ClaimValidationResult | None:
    """The "expired" verdict for a value older than ``max_age_in_sec`` (``validate``'s test), else ``None``."""
    if max_age_in_sec is None:
        return None
    age_in_sec = (now_ms - fetched_at) / 1000
    if age_in_sec <= max_age_in_sec:
        return None
    reason = {"message": "expired", "ageInSeconds": age_in_sec, "maxAgeInSeconds": max_age_in_sec}
    return ClaimValidationResult(False, reason)


class HasValueSCV(SessionClaimValidator):
    """The claim's value is ``val`` (and, with ``max_age_in_sec``, was fetched at most that long ago)."""

    def __init__(self, id_: str, claim: PrimitiveClaim[Any], val: Any, max_age_in_sec: int | None = None) -> None:
        super().__init__(id_)
        self.claim: PrimitiveClaim[Any] = claim
        self.val = val
        self.max_age_in_sec = max_age_in_sec

    def should_refetch(self, payload: dict[str, Any], user_context: dict[str, Any] | None = None) -> bool:
        """No value yet, or one older than ``max_age_in_sec``."""
        value, fetched_at = stored(payload, self.claim.key)
        return value is None or too_old(fetched_at or 0, self.max_age_in_sec, self.claim.clock())

    def validate(self, payload: dict[str, Any], user_context: dict[str, Any] | None = None) -> ClaimValidationResult:
        """Upstream's verdicts, in its order: "value does not exist", "expired", "wrong value"."""
        value = self.claim.get_value_from_payload(payload)
        if value is None:
            reason = {"message": "value does not exist", "expectedValue": self.val, "actualValue": None}
            return ClaimValidationResult(False, reason)
        fetched_at = self.claim.get_last_refetch_time(payload)
        too_late = expired(fetched_at or 0, self.max_age_in_sec, self.claim.clock())
        if too_late is not None:
            return too_late
        if not same_json(value, self.val):
            reason = {"message": "wrong value", "expectedValue": self.val, "actualValue": value}
            return ClaimValidationResult(False, reason)
        return ClaimValidationResult(True)


class PrimitiveClaimValidators:
    """``claim.validators``: ``has_value``. A ``max_age_in_sec`` of ``None`` (or 0, as upstream reads it) takes
    the claim's default."""

    def __init__(self, claim: PrimitiveClaim[Any], default_max_age_in_sec: int | None) -> None:
        self.claim = claim
        self.default_max_age_in_sec = default_max_age_in_sec

    def has_value(self, val: Any, max_age_in_sec: int | None = None, id_: str | None = None) -> SessionClaimValidator:
        """The claim's value is ``val``; the validator's id is ``id_`` or the claim's key."""
        max_age = max_age_in_sec or self.default_max_age_in_sec
        return HasValueSCV(id_ or self.claim.key, self.claim, val, max_age)


class PrimitiveClaim(StoredValueClaim[P]):
    """A claim holding one JSON primitive (string, number, boolean)."""

    def __init__(
        self,
        key: str,
        fetch_value: FetchValue,
        default_max_age_in_sec: int | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(key, fetch_value, clock=clock)
        self.validators = PrimitiveClaimValidators(self, default_max_age_in_sec)

    def get_value_from_payload(
        self, payload: Mapping[str, Any], user_context: dict[str, Any] | None = None
    ) -> P | None:
        """The stored ``v``, or ``None``."""
        value, _ = stored(payload, self.key)
        return value  # type: ignore[no-any-return]


class BooleanClaimValidators(PrimitiveClaimValidators):
    """``claim.validators`` of a ``BooleanClaim``: ``is_true``, ``is_false`` (and ``has_value``)."""

    def is_true(self, max_age: int | None = None, id_: str | None = None) -> SessionClaimValidator:
        """The claim is ``True``."""
        return self.has_value(True, max_age, id_)

    def is_false(self, max_age: int | None = None, id_: str | None = None) -> SessionClaimValidator:
        """The claim is ``False``."""
        return self.has_value(False, max_age, id_)


class BooleanClaim(PrimitiveClaim[bool]):
    """A claim holding ``True`` or ``False`` (email verified, MFA done)."""

    def __init__(
        self,
        key: str,
        fetch_value: FetchValue,
        default_max_age_in_sec: int | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(key, fetch_value, default_max_age_in_sec, clock=clock)
        self.validators: BooleanClaimValidators = BooleanClaimValidators(self, default_max_age_in_sec)
