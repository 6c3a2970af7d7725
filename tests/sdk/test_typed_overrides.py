"""Overrides are checked by mypy: an override with the original's signature passes, one that returns the wrong
thing or takes the wrong arguments is an error (the recipe's functions are typed callables, not ``Any``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

GOOD = """
from typing import Any

from gatepass.recipe.session.errors import ErrorHandlers, ErrorResponse, SessionError
from gatepass.recipe.session.http_types import RequestView
from gatepass.recipe.session.recipe import APIInterface, Overrides, RecipeInterface
from gatepass.recipe.session.signatures import ApiResult
from gatepass.recipe.session.state import SessionState
from gatepass.recipe.session.steps import Flow


def functions(original: RecipeInterface) -> RecipeInterface:
    create = original.create_new_session

    def create_new_session(**kwargs: Any) -> Flow[SessionState]:
        return (yield from create(**kwargs))

    original.create_new_session = create_new_session
    return original


def apis(original: APIInterface) -> APIInterface:
    refresh = original.refresh_post

    def refresh_post(**kwargs: Any) -> Flow[ApiResult]:
        return (yield from refresh(**kwargs))

    original.refresh_post = refresh_post
    return original


def on_unauthorised(error: SessionError, request: RequestView | None, response: ErrorResponse) -> None:
    response.body = {"message": error.message, "path": request.path if request else None}


OVERRIDES = Overrides(functions=functions, apis=apis)
HANDLERS = ErrorHandlers(on_unauthorised=on_unauthorised)
"""

BAD = {
    "wrong result": """
from gatepass.recipe.session.recipe import RecipeInterface
from gatepass.recipe.session.steps import Flow


def functions(original: RecipeInterface) -> RecipeInterface:
    def revoke_session(*, session_handle: str) -> Flow[str]:
        return session_handle
        yield

    original.revoke_session = revoke_session
    return original
""",
    "wrong argument": """
from gatepass.recipe.session.recipe import RecipeInterface
from gatepass.recipe.session.steps import Flow


def functions(original: RecipeInterface) -> RecipeInterface:
    def revoke_session(*, handle: str) -> Flow[bool]:
        return True
        yield

    original.revoke_session = revoke_session
    return original
""",
    "wrong handler": """
from gatepass.recipe.session.errors import ErrorHandlers



def on_unauthorised(error: object) -> tuple[int, dict[str, str]]:  # the old one-argument form
    return 401, {"message": "log in"}


HANDLERS = ErrorHandlers(on_unauthorised=on_unauthorised)
""",
}


def _mypy(tmp_path: Path, source: str) -> tuple[str, int]:
    sample = tmp_path / "sample.py"
    sample.write_text(source)
    out, err, status = api.run(["--strict", "--no-incremental", "--follow-imports=silent", str(sample)])
    return out + err, status


def test_a_well_typed_override_passes(tmp_path: Path) -> None:
    output, status = _mypy(tmp_path, GOOD)
    assert status == 0, output


EXPECTED = {
    "wrong result": "Incompatible types in assignment",
    "wrong argument": "Incompatible types in assignment",
    "wrong handler": 'Argument "on_unauthorised" to "ErrorHandlers" has incompatible type',
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_mistyped_override_is_an_error(tmp_path: Path, name: str) -> None:
    output, status = _mypy(tmp_path, BAD[name])
    assert status == 1 and EXPECTED[name] in output, output
