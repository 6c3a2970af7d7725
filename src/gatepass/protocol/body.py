"""Typed access to a CDI request's JSON body and query string; a wrong or missing field is a 400 that says which."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gatepass.errors import BadRequest
from gatepass.untrusted import value_problem


def _invalid(name: str) -> BadRequest:
    return BadRequest(f"Field name '{name}' is invalid in JSON input")


class JsonBody:
    """A CDI request's JSON object body, read field by field: a field that is missing where required, or of
    the wrong type, is a ``BadRequest`` naming it. A JSON null counts as absent."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data

    @classmethod
    def from_python(cls, data: Mapping[str, Any]) -> JsonBody:
        """A body built in this process (an embedded core's call), held to the rules a JSON body meets when parsed:
        no non-finite numbers, lone surrogates, non-JSON types or runaway nesting reach the handlers."""
        problem = value_problem(data)
        if problem:
            raise BadRequest(f"Invalid JSON input: {problem}")
        return cls(data)

    def has(self, name: str) -> bool:
        """Present and not null."""
        return self._data.get(name) is not None

    def text(self, name: str) -> str:
        """A required string."""
        value = self._data.get(name)
        if not isinstance(value, str):
            raise _invalid(name)
        return value

    def optional_text(self, name: str) -> str | None:
        """A string, or ``None`` when absent."""
        value = self._data.get(name)
        if value is not None and not isinstance(value, str):
            raise _invalid(name)
        return value

    def flag(self, name: str, default: bool | None = None) -> bool:
        """A boolean; ``default`` when absent (without a default, required)."""
        value = self._data.get(name)
        if value is None and default is not None:
            return default
        if not isinstance(value, bool):
            raise _invalid(name)
        return value

    def mapping(self, name: str, default: dict[str, Any] | None = None) -> dict[str, Any]:
        """An object; a copy of ``default`` when absent (without a default, required)."""
        value = self._data.get(name)
        if value is None and default is not None:
            return dict(default)
        if not isinstance(value, dict):
            raise _invalid(name)
        return value

    def optional_mapping(self, name: str) -> dict[str, Any] | None:
        """An object, or ``None`` when absent."""
        return self.mapping(name) if self.has(name) else None

    def text_list(self, name: str) -> list[str]:
        """A required list of strings."""
        value = self._data.get(name)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _invalid(name)
        return value

    def number(self, name: str) -> float:
        """A required number (an integer or a float, not a boolean), as a float."""
        value = self._data.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _invalid(name)
        try:
            return float(value)
        except OverflowError:  # an integer of hundreds of digits: no float holds it
            raise _invalid(name) from None


class Query:
    """A CDI request's query string, read parameter by parameter: a bad or missing one is a ``BadRequest``
    naming it."""

    def __init__(self, params: Mapping[str, str]) -> None:
        self._params = params

    def text(self, name: str) -> str:
        """A required, non-empty parameter."""
        value = self._params.get(name)
        if value is None or value == "":
            raise BadRequest(f"Field name '{name}' is missing in GET request")
        return value

    def flag(self, name: str, default: bool) -> bool:
        """``true`` or ``false`` (in any case); ``default`` when absent."""
        value = self._params.get(name)
        if value is None:
            return default
        if value.lower() not in ("true", "false"):
            raise BadRequest(f"Field name '{name}' must be true or false")
        return value.lower() == "true"
