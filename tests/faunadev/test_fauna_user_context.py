"""The FaunaDB integration's own calls (storing the Fauna token into the session, reading it back) carry the
caller's ``user_context``, so an app's override of those functions sees the very dict the caller passed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gatepass.recipe.app_info import AppInfo
from gatepass.recipe.instance import create
from gatepass.recipe.session import faunadb, syncio
from gatepass.recipe.session.core_client import EmbeddedCore
from gatepass.recipe.session.faunadb.fauna_calls import FaunaClient, q
from gatepass.recipe.session.recipe import Overrides, RecipeInterface
from tests.faunadev.conftest import FaunaDev, make_schema

Seen = list[tuple[str, dict[str, Any]]]


def _recording(seen: Seen) -> Overrides:
    def functions(original: RecipeInterface) -> RecipeInterface:
        for name in ("regenerate_access_token", "get_session_information", "revoke_session"):
            inner = getattr(original, name)

            def wrapped(*, _name: str = name, _inner: Any = inner, **kwargs: Any) -> Any:
                seen.append((_name, kwargs["user_context"]))
                return (yield from _inner(**kwargs))

            setattr(original, name, wrapped)
        return original

    return Overrides(functions=functions)


def test_the_integrations_own_calls_carry_the_callers_context(
    tmp_path: Path, fauna: FaunaDev, admin: FaunaClient
) -> None:
    users = make_schema(admin)
    seen: Seen = []
    key = str(fauna.client().query(q.create_key({"role": "server"}))["secret"])
    info = AppInfo(app_name="ctx", api_domain="http://127.0.0.1:8000", website_domain="http://127.0.0.1:3000")
    spec = faunadb.init(faunadb_client=fauna.client(key), user_collection_name="users", override=_recording(seen))
    gp = create(
        app_info=info, core=EmbeddedCore(f"sqlite:///{tmp_path / 'c.db'}"), framework="flask", recipe_list=[spec]
    )
    try:
        login: dict[str, Any] = {"from": "login"}
        made = syncio.create_new_session_without_request_response(
            "public", users["alice"].id(), user_context=login, gatepass=gp
        )
        assert [name for name, context in seen if context is login] == ["regenerate_access_token"]
        reading: dict[str, Any] = {"from": "read"}
        assert made.get_faunadb_token(reading)
        assert all(context is reading for name, context in seen[1:])
        ending: dict[str, Any] = {"from": "sign-out"}
        assert syncio.revoke_session(made.get_handle(), ending, gatepass=gp)
        assert ("revoke_session", ending) in seen and all(c is not None for _, c in seen)
        assert not any(context == {} for _, context in seen)  # no call went out with a fresh, empty dict
    finally:
        gp.close()
