"""An error keeps its cause where the cause is useful and holds nothing secret, and has none where it could: a
parser's error quotes the whole text it refused, and a query can hand a key's or token's secret to ``Time``,
``Date`` or ``ToNumber``. Either way a client sees only Fauna's JSON error body, never a cause or a traceback."""

from __future__ import annotations

import binascii
from typing import Any

import httpx
import pytest

from gatepass.faunadev.access import ROOT
from gatepass.faunadev.errors import FaunaError
from gatepass.faunadev.evaluator import Evaluator
from gatepass.faunadev.store import Store
from tests.faunadev.conftest import ADMIN, FaunaDev

NEW_SECRET = {"select": ["secret"], "from": {"create_key": {"object": {"role": "server"}}}}
A_SECRET = "fnAEVc0Ww2ACAEZLEXj9Gcn8aUxBbg4ZGn-bZGPe"  # a key secret's shape, as a query could carry it


def raised_by(expr: Any, setup: Any = None) -> FaunaError:
    """The error an admin's query raises, evaluated in process on a fresh store."""
    store = Store(None)
    if setup is not None:
        with store.transaction() as tx:
            Evaluator(tx, ROOT).run(setup)
    with pytest.raises(FaunaError) as raised, store.transaction() as tx:
        Evaluator(tx, ROOT).run(expr)
    return raised.value


@pytest.mark.parametrize(
    "expr",
    [
        {"to_number": A_SECRET},  # no "_" in it, so it reaches float(), whose error would quote it
        {"time": NEW_SECRET},
        {"date": NEW_SECRET},
        {"@ts": A_SECRET},
        {"@date": A_SECRET},
    ],
    ids=["ToNumber", "Time", "Date", "@ts", "@date"],
)
def test_a_refused_text_that_may_be_a_secret_leaves_no_cause(expr: Any) -> None:
    error = raised_by(expr)
    assert error.__cause__ is None and error.__context__ is None


LOGIN_NOBODY = {
    "login": {"ref": {"collection": "users"}, "id": "1"},
    "params": {"object": {"password": "pw"}},
}
CAUSED: list[tuple[Any, Any, type[BaseException], dict[str, Any], str]] = [
    (
        {"@bytes": "a!"},
        None,
        binascii.Error,
        {"position": [], "code": "invalid expression", "description": "Invalid bytes."},
        "Only base64 data is allowed",
    ),
    (
        {"time_add": {"date": "9999-12-31"}, "offset": 5, "unit": "days"},
        None,
        OverflowError,
        {
            "position": [],
            "code": "invalid argument",
            "description": "dates and times must be between 0001-01-01 and 9999-12-31",
        },
        "date value out of range",
    ),
    (
        LOGIN_NOBODY,
        {"create_collection": {"object": {"name": "users"}}},
        FaunaError,
        {
            "position": [],
            "code": "authentication failed",
            "description": "The document was not found or provided password was incorrect.",
        },
        "Document not found",
    ),
]


@pytest.mark.parametrize(("expr", "setup", "cause", "wire", "said"), CAUSED, ids=["@bytes", "TimeAdd", "Login"])
def test_a_cause_that_holds_nothing_secret_is_kept(
    expr: Any, setup: Any, cause: type[BaseException], wire: dict[str, Any], said: str
) -> None:
    error = raised_by(expr, setup)
    assert isinstance(error.__cause__, cause) and said in str(error.__cause__)
    assert error.wire() == wire


@pytest.mark.parametrize(("expr", "setup", "cause", "wire", "said"), CAUSED, ids=["@bytes", "TimeAdd", "Login"])
def test_the_client_sees_only_the_json_error_body(
    fauna: FaunaDev, expr: Any, setup: Any, cause: type[BaseException], wire: dict[str, Any], said: str
) -> None:
    with httpx.Client(base_url=fauna.url, auth=(ADMIN, "")) as client:
        if setup is not None:
            assert client.post("/", json=setup).status_code == 200
        response = client.post("/", json=expr)
    assert response.status_code in (400, 401, 404) and response.json() == {"errors": [wire]}
    assert said not in response.text and "Traceback" not in response.text
