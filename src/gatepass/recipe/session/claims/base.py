"""Session claims, the way supertokens-python 0.31 shapes them (``recipe/session/interfaces.py``): a claim is a
value the backend fetches for a user and keeps in the access-token payload under its key as
``{"v": value, "t": <epoch ms it was fetched>}``, the shape supertokens-website reads; a validator checks the
payload (and says whether the value should be fetched again first).

Differences from upstream, each a superset: the clock is injected (``clock=``, epoch milliseconds; upstream reads
the system time); ``validate`` and ``should_refetch`` of the built-in validators are plain functions, so sync code
(Flask, Django) runs them without an event loop (a validator of your own may still be ``async``: the async API
awaits it); and a payload value that is not of the claim's shape (an app wrote the key itself) reads as no value
instead of raising.
"""

from __future__ import annotations

import inspect
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, TypeVar

T = TypeVar("T")
Clock = Callable[[], int]
FetchValue = Callable[[str, str, str, dict[str, Any], dict[str, Any]], Any]  # a value, None, or an awaitable of one


def system_clock() -> int:
    """Epoch milliseconds, from the system clock."""
    return time.time_ns() // 1_000_000


class ClaimValidationResult:
    """A validator's verdict: ``is_valid``, and when not, ``reason`` (a JSON object sent to the frontend)."""

    def __init__(self, is_valid: bool, reason: dict[str, Any] | None = None) -> None:
        self.is_valid = is_valid
        self.reason: dict[str, Any] | None = {} if is_valid else reason

    def __repr__(self) -> str:
        return f"ClaimValidationResult(is_valid={self.is_valid!r}, reason={self.reason!r})"


class SessionDoesNotExistError:
    """A result (upstream's name; not an exception): the session handle names no live session."""

    def __repr__(self) -> str:
        return "SessionDoesNotExistError()"


class GetClaimValueOkResult(Generic[T]):
    """``get_claim_value``'s result for a live session: ``value`` (``None`` when the payload has none)."""

    def __init__(self, value: T | None) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"GetClaimValueOkResult(value={self.value!r})"


class SessionClaim(ABC, Generic[T]):
    """A claim: ``key`` in the payload, and ``fetch_value(user_id, recipe_user_id, tenant_id, current_payload,
    user_context)`` giving its current value (``None``: nothing to add). ``fetch_value`` may be ``async``."""

    def __init__(self, key: str, fetch_value: FetchValue, *, clock: Clock | None = None) -> None:
        if not isinstance(key, str) or not key:
            raise ValueError("a claim's key must be a non-empty string")
        self.key = key
        self.fetch_value = fetch_value
        self.clock: Clock = clock or system_clock

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key={self.key!r})"

    @abstractmethod
    def add_to_payload_(
        self, payload: dict[str, Any], value: T, user_context: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Put ``value`` (fetched now) into ``payload``, in place, and return it."""

    @abstractmethod
    def remove_from_payload_by_merge_(
        self, payload: dict[str, Any], user_context: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Set the claim to ``None`` in ``payload`` (a merge then removes it), in place, and return it."""

    @abstractmethod
    def remove_from_payload(
        self, payload: dict[str, Any], user_context: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Remove the claim from ``payload``, in place, and return it."""

    @abstractmethod
    def get_value_from_payload(
        self, payload: Mapping[str, Any], user_context: dict[str, Any] | None = None
    ) -> T | None:
        """The claim's value in ``payload``, or ``None``."""

    def update_for(self, value: T | None, user_context: dict[str, Any] | None = None) -> dict[str, Any]:
        """The payload update that stores a fetched value: empty when it is ``None`` (upstream's ``build`` rule)."""
        return {} if value is None else self.add_to_payload_({}, value, user_context)

    async def build(
        self,
        user_id: str,
        recipe_user_id: str,
        tenant_id: str,
        current_payload: dict[str, Any],
        user_context: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Fetch the value and return the payload update that stores it (``{}`` when there is none)."""
        context = {} if user_context is None else user_context
        value = self.fetch_value(user_id, recipe_user_id, tenant_id, current_payload, context)
        if inspect.isawaitable(value):
            value = await value
        return self.update_for(value, context)


class StoredValueClaim(SessionClaim[T]):
    """A claim stored as upstream's primitive and array claims store theirs: ``{"v": value, "t": fetched at}``
    under its key (subclasses say what a valid value is, in ``get_value_from_payload``)."""

    def add_to_payload_(
        self, payload: dict[str, Any], value: T, user_context: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """``payload[key] = {"v": value, "t": now}``."""
        payload[self.key] = {"v": value, "t": self.clock()}
        return payload

    def remove_from_payload_by_merge_(
        self, payload: dict[str, Any], user_context: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """``payload[key] = None``."""
        payload[self.key] = None
        return payload

    def remove_from_payload(
        self, payload: dict[str, Any], user_context: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """``del payload[key]`` (nothing to do if it is absent)."""
        payload.pop(self.key, None)
        return payload

    def get_last_refetch_time(
        self, payload: Mapping[str, Any], user_context: dict[str, Any] | None = None
    ) -> int | None:
        """When the stored value was fetched (epoch ms), or ``None``."""
        _, fetched_at = stored(payload, self.key)
        return fetched_at


class SessionClaimValidator(ABC):
    """A check on the access-token payload, sent to the frontend as ``id`` when it fails; ``claim`` is the claim it
    reads, if any (its value is fetched again first when ``should_refetch`` says so)."""

    def __init__(self, id_: str) -> None:
        self.id = id_
        self.claim: SessionClaim[Any] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r})"

    @abstractmethod
    def validate(
        self, payload: dict[str, Any], user_context: dict[str, Any]
    ) -> ClaimValidationResult | Awaitable[ClaimValidationResult]:
        """The verdict on ``payload``."""

    def should_refetch(self, payload: dict[str, Any], user_context: dict[str, Any]) -> bool | Awaitable[bool]:
        """Whether ``claim``'s value should be fetched again before ``validate`` (a validator without a claim
        never refetches)."""
        return False


def stored(payload: Mapping[str, Any], key: str) -> tuple[Any, int | None]:
    """The ``(value, fetched-at ms)`` a claim keeps under ``key``, or ``(None, None)`` when the payload holds no
    value of the claim's shape there (no ``v``, or no whole-number ``t``)."""
    entry = payload.get(key)
    if not isinstance(entry, Mapping):
        return None, None
    value, fetched_at = entry.get("v"), entry.get("t")
    if value is None or isinstance(fetched_at, bool) or not isinstance(fetched_at, int):
        return None, None
    return value, fetched_at


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values: ``True`` is not ``1`` (Python's ``==`` says it is; the Node SDK's ``===`` does not)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return bool(a == b)
    return type(a) is type(b) and bool(a == b)
