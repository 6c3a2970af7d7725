"""``dispatch.resolve`` keeps the resolutions callers repeat: the same answers as without the memo, refusals
never kept, the memo bounded in entries and in path length."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gatepass.core import dispatch
from gatepass.errors import MethodNotAllowed, NotFound


@pytest.fixture(autouse=True)
def empty_memo() -> Iterator[None]:
    dispatch._RESOLVED.clear()
    yield
    dispatch._RESOLVED.clear()


@pytest.mark.parametrize(
    "method,path,where",
    [
        ("POST", "/recipe/session/verify", ("public", "public", "/recipe/session/verify")),
        ("POST", "/Recipe/Session/Verify/", ("public", "public", "/recipe/session/verify")),
        ("POST", "/t1/recipe/session", ("public", "t1", "/recipe/session")),
        ("POST", "/appid-a1/t2/recipe/session", ("a1", "t2", "/recipe/session")),
        ("GET", "/appid-a1/apiversion", ("a1", "public", "/apiversion")),
    ],
)
def test_a_kept_resolution_is_the_one_made_fresh(method: str, path: str, where: tuple[str, str, str]) -> None:
    first = dispatch.resolve(method, path)
    assert (first.app_id, first.tenant_id, first.api_path) == where
    assert dispatch.resolve(method, path) is first  # from the memo
    dispatch._RESOLVED.clear()
    assert dispatch.resolve(method, path) == first


def test_the_method_is_part_of_the_key() -> None:
    assert dispatch.resolve("POST", "/recipe/session").api.handler.__name__ == "create_session"
    with pytest.raises(MethodNotAllowed):
        dispatch.resolve("DELETE", "/recipe/session/refresh")
    assert dispatch.resolve("POST", "/recipe/session/refresh").api_path == "/recipe/session/refresh"


def test_refusals_are_never_kept() -> None:
    for _ in range(2):
        with pytest.raises(NotFound):
            dispatch.resolve("POST", "/recipe/nothing-here")
        with pytest.raises(MethodNotAllowed):
            dispatch.resolve("GET", "/recipe/session/refresh")
    assert dispatch._RESOLVED == {}


def test_the_memo_is_bounded_in_entries_and_in_path_length() -> None:
    for tenant in range(dispatch.MAX_RESOLVED * 2 + 7):  # a flood of distinct (valid) tenant paths
        dispatch.resolve("POST", f"/t{tenant}/recipe/session")
        assert len(dispatch._RESOLVED) <= dispatch.MAX_RESOLVED
    long_path = "/appid-" + "a" * dispatch.MAX_KEPT_PATH + "/recipe/session"
    dispatch._RESOLVED.clear()
    assert dispatch.resolve("POST", long_path).app_id == "a" * dispatch.MAX_KEPT_PATH
    assert dispatch._RESOLVED == {}
