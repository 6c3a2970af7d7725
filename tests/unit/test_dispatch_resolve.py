"""``dispatch.resolve`` keeps the resolutions callers repeat: the same answers as without the memo, refusals
never kept, the memo bounded in entries and in path length; hostile methods and paths are refusals, never errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatepass.core import dispatch
from gatepass.errors import MethodNotAllowed, NotFound
from tests.fuzz_settings import fuzz_settings


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


HOSTILE_PATHS = [
    "/" + "9" * 5000,
    "/1e309/recipe/session",
    "/appid-1e309/recipe/session",
    "/\ud800/recipe/session",
    "/appid-\ud800/recipe/session",
    "/recipe/session\x00",
    "/\x00/recipe/session",
    "/" + "x" * 1_000_000 + "/recipe/session",
    "/a" * 5000 + "/recipe/session",
    "/appid-" + "[" * 5000 + "/recipe/session",
]


@pytest.mark.parametrize("path", HOSTILE_PATHS, ids=lambda p: repr(p[:24]))
@pytest.mark.parametrize("method", ["POST", "GET", "PROPFIND", "\x00", "\ud800"])
def test_a_hostile_path_or_method_is_a_refusal_or_a_route_never_anything_else(method: str, path: str) -> None:
    for _ in range(2):  # fresh, then (if it resolved) from the memo: the same outcome
        try:
            resolved = dispatch.resolve(method, path)
        except (NotFound, MethodNotAllowed):
            continue
        assert resolved.api_path == "/recipe/session" and method in ("POST", "GET")
    assert all(len(kept_path) <= dispatch.MAX_KEPT_PATH for _, kept_path in dispatch._RESOLVED)


@fuzz_settings()
@given(method=st.text(max_size=12), path=st.text(max_size=300).map(lambda text: "/" + text))
def test_any_text_resolves_or_is_refused_and_the_memo_agrees_with_a_fresh_answer(method: str, path: str) -> None:
    outcomes = []
    for clear in (True, False, True):
        if clear:
            dispatch._RESOLVED.clear()
        try:
            outcomes.append(dispatch.resolve(method, path))
        except (NotFound, MethodNotAllowed) as refusal:
            outcomes.append(type(refusal))
    assert outcomes[0] == outcomes[1] == outcomes[2]
    assert len(dispatch._RESOLVED) <= 1
