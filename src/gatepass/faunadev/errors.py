"""FQL errors: a code, a description, the HTTP status, and the position in the expression."""

from __future__ import annotations

from typing import Any

STATUS = {
    "unauthorized": 401,
    "permission denied": 403,
    "instance not found": 404,
    "value not found": 404,
    "schema not found": 404,
}


class FaunaError(Exception):
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
        self.position = list(position or [])
        self.failures = failures

    @property
    def status(self) -> int:
        return STATUS.get(self.code, 400)

    def wire(self) -> dict[str, Any]:
        error: dict[str, Any] = {"position": self.position, "code": self.code, "description": self.description}
        if self.failures:
            error["failures"] = self.failures
        return error


def not_found(position: list[Any], what: str = "Document") -> FaunaError:
    return FaunaError("instance not found", f"{what} not found.", position)


def invalid_argument(position: list[Any], description: str) -> FaunaError:
    return FaunaError("invalid argument", description, position)


def permission_denied(position: list[Any]) -> FaunaError:
    return FaunaError("permission denied", "Insufficient privileges to perform the action.", position)
