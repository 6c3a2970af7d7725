"""The core's request body as ASGI messages deliver it: one chunk or many, cut short by a disconnect, over the
limit across chunks, blank; ``read_json_body`` answers each with the body or a ``BadRequest`` (400)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request

from gatepass.core.http_app import MAX_BODY_BYTES, read_json_body
from gatepass.errors import BadRequest


def _request(messages: list[dict[str, Any]], headers: dict[str, str] | None = None) -> Request:
    pending = messages  # consumed as they are received

    async def receive() -> dict[str, Any]:
        return pending.pop(0)

    raw_headers = [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {"type": "http", "method": "POST", "path": "/recipe/session", "headers": raw_headers}
    return Request(scope, receive)


async def _read(request: Request) -> Any:
    return (await read_json_body(request))._data


def _chunks(*parts: bytes) -> list[dict[str, Any]]:
    return [{"type": "http.request", "body": part, "more_body": i < len(parts) - 1} for i, part in enumerate(parts)]


@pytest.mark.asyncio
async def test_a_body_in_one_chunk_or_many_is_the_same_object() -> None:
    whole = b'{"userId": "u", "userDataInJWT": {"a": [1, 2]}}'
    assert await _read(_request(_chunks(whole))) == {"userId": "u", "userDataInJWT": {"a": [1, 2]}}
    pieces = [whole[i : i + 5] for i in range(0, len(whole), 5)]
    assert await _read(_request(_chunks(*pieces))) == {"userId": "u", "userDataInJWT": {"a": [1, 2]}}


@pytest.mark.asyncio
@pytest.mark.parametrize("blank", [b"", b" ", b"\r\n\t ", b"\x0c"])
async def test_a_blank_body_is_an_empty_object(blank: bytes) -> None:
    assert await _read(_request(_chunks(blank))) == {}
    assert await _read(_request(_chunks(b"", blank, b""))) == {}


@pytest.mark.asyncio
async def test_a_disconnect_before_the_end_is_a_bad_request() -> None:
    messages = [*_chunks(b'{"userId": ', b"")[:1], {"type": "http.disconnect"}]
    messages[0]["more_body"] = True
    with pytest.raises(BadRequest, match="disconnected"):
        await _read(_request(messages))


@pytest.mark.asyncio
async def test_other_messages_are_passed_over() -> None:
    messages = [{"type": "http.request.trailers"}, *_chunks(b'{"a": 1}')]
    assert await _read(_request(messages)) == {"a": 1}


@pytest.mark.asyncio
async def test_a_body_over_the_limit_across_chunks_is_refused_before_it_is_read_whole() -> None:
    chunk = b" " * (256 * 1024)
    messages = _chunks(*([chunk] * 5), b"{}")  # 1.25 MiB of whitespace, then a valid object
    with pytest.raises(BadRequest, match="too large"):
        await _read(_request(messages))
    assert len(messages) == 1  # it stopped at the fifth chunk: the last was never asked for


@pytest.mark.asyncio
@pytest.mark.parametrize("declared", [str(MAX_BODY_BYTES + 1), "12x", "-1", "１２"])
async def test_a_declared_length_over_the_limit_or_not_digits_is_refused_unread(declared: str) -> None:
    messages = _chunks(b"{}")
    with pytest.raises(BadRequest, match="too large"):
        await _read(_request(messages, {"content-length": declared}))
    assert len(messages) == 1


@pytest.mark.asyncio
@pytest.mark.parametrize("body", [b"[1]", b'"x"', b"{", b'{"a": 1e309}', b"\xff"])
async def test_a_body_that_is_not_a_json_object_is_a_bad_request(body: bytes) -> None:
    with pytest.raises(BadRequest, match="Invalid JSON"):
        await _read(_request(_chunks(body)))
