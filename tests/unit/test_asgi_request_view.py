"""``asgi.request_view`` builds a request's view once: the middleware's is reused by ``verify_session`` while the
scope keeps the same header list, method and path, and rebuilt when any of them changes."""

from __future__ import annotations

from typing import Any

from gatepass.recipe.session.asgi import request_view


def _scope() -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": "/me",
        "headers": [(b"authorization", b"Bearer abc"), (b"cookie", b"a=1; b=2")],
        "client": ("10.0.0.1", 5000),
    }


def test_the_view_is_built_once_per_scope() -> None:
    scope = _scope()
    first = request_view(scope)
    assert request_view(scope) is first
    assert first.header("Authorization") == "Bearer abc" and first.cookie_values("b") == ["2"]
    assert first.client == "10.0.0.1"


def test_a_changed_header_list_method_or_path_gets_a_new_view() -> None:
    scope = _scope()
    first = request_view(scope)
    scope["headers"] = [*scope["headers"], (b"x-extra", b"1")]  # a middleware replaced the header list
    second = request_view(scope)
    assert second is not first and second.header("x-extra") == "1"
    scope["path"] = "/mounted"
    third = request_view(scope)
    assert third is not second and third.path == "/mounted"
    scope["method"] = "POST"
    assert request_view(scope).method == "POST"


def test_separate_scopes_never_share_a_view() -> None:
    assert request_view(_scope()) is not request_view(_scope())
