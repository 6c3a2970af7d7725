"""Every form's handler is a module-level name, registered when its module is imported, and callable on its own: here
handlers run on ``Literal``, a tiny ``forms.Evaluation`` that takes each argument as its own value, over an
in-memory store, with no evaluator and no dispatch table."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from gatepass.faunadev import forms
from gatepass.faunadev.access import ROOT, Auth
from gatepass.faunadev.control import _var
from gatepass.faunadev.crud import _create, _delete, _get
from gatepass.faunadev.errors import FaunaError, invalid_argument
from gatepass.faunadev.forms import Env, Evaluation, Pos
from gatepass.faunadev.identity import _login
from gatepass.faunadev.limits import Budget
from gatepass.faunadev.pure import _concat, _lt
from gatepass.faunadev.schema import create_collection
from gatepass.faunadev.store import Store, Transaction
from gatepass.faunadev.values import TOKENS, Ref, Time, collection_ref


class Literal:
    """An ``Evaluation`` whose expressions are already values: ``arg`` is the call's own argument."""

    def __init__(self, tx: Transaction, auth: Auth = ROOT) -> None:
        self.tx = tx
        self.auth = auth
        self.unrestricted = auth.unrestricted
        self.budget = Budget()

    def eval(self, expr: Any, env: Env, pos: Pos) -> Any:
        return expr

    def arg(self, expr: dict[str, Any], name: str, env: Env, pos: Pos) -> Any:
        return expr[name]

    def apply(self, fn: Any, args: list[Any], pos: Pos) -> Any:
        raise AssertionError("no lambdas here")

    def unchecked(self) -> Evaluation:
        return self

    def _typed(self, value: Any, kind: type | tuple[type, ...], pos: Pos) -> Any:
        if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
            raise invalid_argument(pos, f"{kind} expected")
        return value

    def number(self, value: Any, pos: Pos) -> int | float:
        return self._typed(value, (int, float), pos)  # type: ignore[no-any-return]

    def integer(self, value: Any, pos: Pos) -> int:
        return self._typed(value, int, pos)  # type: ignore[no-any-return]

    def boolean(self, value: Any, pos: Pos) -> bool:
        return self._typed(value, bool, pos)  # type: ignore[no-any-return]

    def string(self, value: Any, pos: Pos) -> str:
        return self._typed(value, str, pos)  # type: ignore[no-any-return]

    def object(self, value: Any, pos: Pos) -> dict[str, Any]:
        return self._typed(value, dict, pos)  # type: ignore[no-any-return]

    def array(self, value: Any, pos: Pos) -> list[Any]:
        return self._typed(value, list, pos)  # type: ignore[no-any-return]

    def time(self, value: Any, pos: Pos) -> Time:
        return self._typed(value, Time, pos)  # type: ignore[no-any-return]

    def collection_items(self, value: Any, pos: Pos) -> tuple[list[Any], dict[str, Any] | None]:
        return self._typed(value, list, pos), None


@pytest.fixture
def tx() -> Iterator[Transaction]:
    with Store(None).transaction() as transaction:
        yield transaction


def test_pure_and_control_handlers_alone(tx: Transaction) -> None:
    ev: Evaluation = Literal(tx)
    assert _concat(ev, {"concat": ["a", "b"], "separator": "-"}, {}, []) == "a-b"
    assert _lt(ev, {"lt": [1, 2, 3]}, {}, []) is True
    assert _var(ev, {"var": "x"}, {"x": 7}, []) == 7
    with pytest.raises(FaunaError) as error:
        _var(ev, {"var": "y"}, {"x": 7}, [0])
    assert error.value.description == "Variable 'y' is not defined." and error.value.position == [0]


def test_document_and_login_handlers_alone(tx: Transaction) -> None:
    ev: Evaluation = Literal(tx)
    create_collection(ev, {"name": "users"}, [])
    params = {"data": {"email": "a@example.com"}, "credentials": {"password": "pw"}}
    created = _create(ev, {"create": collection_ref("users"), "params": params}, {}, [])
    ref = created["ref"]
    assert ref.collection == collection_ref("users") and created["data"] == {"email": "a@example.com"}
    assert _get(ev, {"get": ref}, {}, []) == created
    token = _login(ev, {"login": ref, "params": {"password": "pw"}}, {}, [])
    assert token["instance"] == ref and token["secret"].startswith("fnE") and token["ref"].collection == TOKENS
    with pytest.raises(FaunaError) as wrong:
        _login(ev, {"login": ref, "params": {"password": "nope"}}, {}, [])
    assert wrong.value.code == "authentication failed"
    assert _delete(ev, {"delete": ref}, {}, []) == created
    with pytest.raises(FaunaError) as gone:
        _get(ev, {"get": ref}, {}, [])
    assert gone.value.code == "instance not found"


def test_handlers_check_rights_on_their_own(tx: Transaction) -> None:
    create_collection(Literal(tx), {"name": "users"}, [])
    client: Evaluation = Literal(tx, Auth("client"))
    with pytest.raises(FaunaError) as refused:
        _create(client, {"create": collection_ref("users"), "params": {}}, {}, [])
    assert refused.value.code == "permission denied"
    with pytest.raises(FaunaError):
        _get(client, {"get": Ref("1", collection_ref("users"))}, {}, [])


def test_every_registered_handler_is_a_module_level_name() -> None:
    importlib.import_module("gatepass.faunadev.evaluator")  # imports every module of forms
    unnamed = []
    for name, spec in forms.FORMS.items():
        module = sys.modules[spec.handler.__module__]
        if not any(value is spec.handler for value in vars(module).values()):
            unnamed.append(name)
    assert unnamed == []


def test_a_module_of_forms_imports_without_the_evaluator() -> None:
    code = (
        "import sys; import gatepass.faunadev.crud, gatepass.faunadev.identity, gatepass.faunadev.pure; "
        "assert 'gatepass.faunadev.evaluator' not in sys.modules, sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
