"""FQL v4 values and their wire encoding (requests use call forms or ``@``-tagged literals; answers use literals).

Times are integers of nanoseconds since the epoch and print like Java's ``Instant.toString`` (no fraction when it
is zero, otherwise 3, 6 or 9 digits), because the official drivers compare ``@ts`` strings.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

NATIVE_COLLECTIONS = (
    "collections",
    "indexes",
    "tokens",
    "keys",
    "credentials",
    "roles",
    "databases",
    "functions",
    "access_providers",
)


@dataclass(frozen=True)
class Ref:
    """A ref: an id in a collection; the native collections (``collections``, ``tokens``...) have none."""

    id: str
    collection: Ref | None = None

    @property
    def is_native(self) -> bool:
        """True for a native collection, which has no collection of its own."""
        return self.collection is None

    def wire(self) -> dict[str, Any]:
        """The ``@ref`` literal."""
        body: dict[str, Any] = {"id": self.id}
        if self.collection is not None:
            body["collection"] = self.collection.wire()
        return {"@ref": body}

    def __str__(self) -> str:
        return f"Ref({self.collection.id + ', ' if self.collection else ''}{self.id})"


def native(name: str) -> Ref:
    """The ref of a native collection."""
    return Ref(name)


COLLECTIONS = native("collections")
INDEXES = native("indexes")
TOKENS = native("tokens")
KEYS = native("keys")
ROLES = native("roles")
CREDENTIALS = native("credentials")
ACCESS_PROVIDERS = native("access_providers")


def collection_ref(name: str) -> Ref:
    """The ref of a user collection."""
    return Ref(name, COLLECTIONS)


@dataclass(frozen=True, order=True)
class Time:
    """An instant, in nanoseconds since the epoch."""

    nanos: int

    def wire(self) -> dict[str, Any]:
        """The ``@ts`` literal."""
        return {"@ts": format_time(self.nanos)}


@dataclass(frozen=True, order=True)
class Date:
    """A calendar day."""

    day: dt.date

    def wire(self) -> dict[str, Any]:
        """The ``@date`` literal."""
        return {"@date": self.day.isoformat()}


@dataclass(frozen=True)
class Bytes:
    """A byte string."""

    data: bytes

    def wire(self) -> dict[str, Any]:
        """The ``@bytes`` literal (url-safe base64)."""
        return {"@bytes": base64.urlsafe_b64encode(self.data).decode()}


@dataclass(frozen=True)
class SetRef:
    """A set: ``{"match": index, "terms": ...}``, ``{"documents": coll}``, or a native collection's set."""

    spec: dict[str, Any]

    def wire(self) -> dict[str, Any]:
        """The ``@set`` literal."""
        return {"@set": {k: encode(v) for k, v in self.spec.items()}}


@dataclass(frozen=True)
class Lambda:
    """A lambda: its parameters, its unevaluated body, and the bindings it closed over (not compared)."""

    params: str | list[str]
    body: Any  # unevaluated expression
    env: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)  # captured bindings

    def wire(self) -> dict[str, Any]:
        """The ``@query`` literal (without the captured bindings)."""
        return {"@query": {"lambda": self.params, "expr": self.body}}


def format_time(nanos: int) -> str:
    """An instant as Java's ``Instant.toString`` prints it (no fraction when it is zero, else 3, 6 or 9 digits)."""
    seconds, fraction = divmod(nanos, 1_000_000_000)
    stamp = dt.datetime.fromtimestamp(seconds, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if fraction == 0:
        return stamp + "Z"
    if fraction % 1_000_000 == 0:
        return f"{stamp}.{fraction // 1_000_000:03d}Z"
    if fraction % 1_000 == 0:
        return f"{stamp}.{fraction // 1_000:06d}Z"
    return f"{stamp}.{fraction:09d}Z"


def parse_time(text: str) -> int:
    """ISO-8601 instant -> nanoseconds; raises ValueError on anything else."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    main, sep, rest = value.partition(".")
    fraction_ns = 0
    if sep:
        digits = ""
        for char in rest:
            if char in "0123456789":  # not str.isdigit(): it takes "²", which int() refuses
                digits += char
            else:
                break
        offset = rest[len(digits) :]
        fraction_ns = int((digits + "000000000")[:9]) if digits else 0
        value = main + offset
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp()) * 1_000_000_000 + fraction_ns


def encode(value: Any) -> Any:
    """A value as answer JSON (plain objects; ``@obj`` only for keys that start with ``@``; ``NaN`` and the
    infinities as strings, the way Fauna's JSON writer prints them)."""
    if isinstance(value, (Ref, Time, Date, Bytes, SetRef, Lambda)):
        return value.wire()
    if isinstance(value, dict):
        body = {k: encode(v) for k, v in value.items()}
        return {"@obj": body} if any(k.startswith("@") for k in value) else body
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return NON_FINITE[str(value)]  # as Fauna writes them: JSON has no such numbers
    return value


NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
