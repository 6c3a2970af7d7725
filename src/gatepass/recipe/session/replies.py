"""Reading the core's replies (pure): every field the SDK uses is checked for presence and type.

A reply of the wrong shape means the core, or something answering in its place (a proxy, a misrouted URL), is not
speaking CDI: that is a ``CoreError``, answered like any core failure (no tokens touched), never a ``KeyError``
or ``TypeError`` escaping into the framework as a crash. Messages name the field, never its value (it may be a
token).
"""

from __future__ import annotations

from typing import Any

from gatepass.recipe.session.errors import CoreError


class CoreReply:
    """A reply body with typed, checked accessors; ``what`` names the call in error messages."""

    def __init__(self, body: Any, what: str) -> None:
        if not isinstance(body, dict):
            raise CoreError(f"the core's reply to {what} is not a JSON object")
        self.body: dict[str, Any] = body
        self.what = what

    def _wrong(self, name: str) -> CoreError:
        return CoreError(f"the core's reply to {self.what} has a missing or malformed {name!r}")

    def has(self, name: str) -> bool:
        return self.body.get(name) is not None

    @property
    def status(self) -> str:
        return self.text("status")

    def text(self, name: str) -> str:
        value = self.body.get(name)
        if not isinstance(value, str):
            raise self._wrong(name)
        return value

    def optional_text(self, name: str) -> str | None:
        value = self.body.get(name)
        if value is not None and not isinstance(value, str):
            raise self._wrong(name)
        return value

    def message(self, default: str) -> str:
        value = self.body.get("message")
        return value if isinstance(value, str) else default

    def integer(self, name: str) -> int:
        value = self.body.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(name)
        return value

    def mapping(self, name: str) -> dict[str, Any]:
        value = self.body.get(name)
        if not isinstance(value, dict):
            raise self._wrong(name)
        return value

    def part(self, name: str) -> CoreReply:
        """A nested object (``session``, ``accessToken``), read with the same checks."""
        return CoreReply(self.mapping(name), f"{self.what} ({name})")

    def text_list(self, name: str) -> list[str]:
        """A list of strings; absent means empty (as upstream's SDKs read it)."""
        value = self.body.get(name, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self._wrong(name)
        return list(value)
