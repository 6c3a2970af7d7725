"""FQL errors: a code, a description, the HTTP status, and the position in the expression.

Errors about the query carry a position (``[]`` is the whole query); errors about the request or its limits
(compute, time, size) carry none, as Fauna renders them without one.
"""

from __future__ import annotations

from typing import Any

STATUS = {
    "unauthorized": 401,
    "permission denied": 403,
    "instance not found": 404,
    "value not found": 404,
    "schema not found": 404,
    "request too large": 413,
    "internal server error": 500,
    "time out": 503,
}


class FaunaError(Exception):
    """An FQL error as Fauna answers it: code, description, position (None for the request's) and failures."""

    def __init__(
        self,
        code: str,
        description: str,
        position: list[Any] | None = None,
        failures: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.position = None if position is None else list(position)
        self.failures = failures

    @property
    def status(self) -> int:
        """The HTTP status Fauna answers this error with (400 unless listed)."""
        return STATUS.get(self.code, 400)

    def wire(self) -> dict[str, Any]:
        """The error as one entry of the answer's ``errors`` array."""
        error: dict[str, Any] = {} if self.position is None else {"position": self.position}
        error.update({"code": self.code, "description": self.description})
        if self.failures:
            error["failures"] = self.failures
        return error


def not_found(position: list[Any], what: str = "Document") -> FaunaError:
    """``instance not found`` for a document (or the thing named)."""
    return FaunaError("instance not found", f"{what} not found.", position)


def invalid_argument(position: list[Any], description: str) -> FaunaError:
    """``invalid argument`` at a position."""
    return FaunaError("invalid argument", description, position)


def permission_denied(position: list[Any]) -> FaunaError:
    """``permission denied``, in Fauna's words."""
    return FaunaError("permission denied", "Insufficient privileges to perform the action.", position)


def validation_failed(
    field: list[str], description: str, position: list[Any], code: str = "invalid type"
) -> FaunaError:
    """Fauna's ``validation failed`` for write parameters, naming the one field at fault."""
    failure = {"field": field, "code": code, "description": description}
    return FaunaError("validation failed", "document data is not valid.", position, [failure])
