"""The remote core's async side (issue 14): awaited core calls use one pooled ``httpx.AsyncClient`` per event loop,
so they hold no worker thread (more than the thread pool's 40 are in flight at once), a cancelled task drops its
call (the core sees the client go), each loop gets its own client and its shutdown closes it (no socket left open:
pytest turns the ResourceWarning into an error), and the sync side's rules hold: 429s retried unless Retry-After,
the next host on a connection error, a 5xx or an unreadable answer a clean error. Against a fake core."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gatepass.errors import CoreError, CoreUnavailableError
from gatepass.recipe.session.core_client import RemoteCore
from gatepass.recipe.session.steps import CoreCall
from tests.helpers import free_port, serve_in_thread


@dataclass
class FakeCore:
    in_flight: int = 0
    peak: int = 0
    hanging: int = 0
    disconnected: int = 0
    calls: dict[str, int] = field(default_factory=dict)
    release: threading.Event = field(default_factory=threading.Event)

    def app(self) -> Starlette:
        async def versions(request: Request) -> Response:
            return JSONResponse({"versions": ["5.4"]})

        async def gate(request: Request) -> Response:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            while not self.release.is_set():
                await asyncio.sleep(0.01)
            self.in_flight -= 1
            return JSONResponse({"status": "OK"})

        async def hang(request: Request) -> Response:
            self.hanging += 1
            while not await request.is_disconnected():
                await asyncio.sleep(0.01)
            self.disconnected += 1
            return Response(status_code=204)

        async def counted(request: Request) -> Response:
            name = request.path_params["name"]
            self.calls[name] = count = self.calls.get(name, 0) + 1
            kind = name.split("-")[0]
            if kind == "busy" and count <= 2:
                return Response(status_code=429)
            if kind == "limited":
                return Response(status_code=429, headers={"retry-after": "60"})
            if kind == "broken":
                return Response("stack trace with secrets", status_code=500)
            if kind == "garbled":
                return Response(b'{"status": NaN}', media_type="application/json")
            return JSONResponse({"status": "OK", "calls": count})

        return Starlette(
            routes=[
                Route("/apiversion", versions),
                Route("/gate", gate),
                Route("/hang", hang),
                Route("/counted/{name}", counted, methods=["GET", "POST"]),
            ]
        )


@pytest.fixture
def fake() -> Iterator[tuple[FakeCore, str]]:
    core = FakeCore()
    with serve_in_thread(core.app()) as url:
        yield core, url
        core.release.set()


async def _until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(2000):  # a liveness wait (up to 20 s), not a timing assertion
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


def test_many_calls_in_flight_hold_no_worker_thread(fake: tuple[FakeCore, str]) -> None:
    state, url = fake
    core = RemoteCore(url)

    async def main() -> list[dict[str, Any]]:
        await core.send_async(CoreCall("GET", "/counted/warm-up"))
        calls = [asyncio.create_task(core.send_async(CoreCall("GET", "/gate"))) for _ in range(60)]
        await _until(lambda: state.in_flight == 60, "60 calls in flight")
        assert anyio.to_thread.current_default_thread_limiter().borrowed_tokens == 0
        state.release.set()
        return list(await asyncio.gather(*calls))

    assert asyncio.run(main()) == [{"status": "OK"}] * 60
    assert state.peak == 60  # more than the 40 worker threads a thread hop would allow
    core.close()


def test_a_cancelled_call_is_dropped_at_the_core(fake: tuple[FakeCore, str]) -> None:
    state, url = fake
    core = RemoteCore(url, timeout_s=120)  # not the timeout: the cancellation ends the call

    async def main() -> None:
        call = asyncio.create_task(core.send_async(CoreCall("GET", "/hang")))
        await _until(lambda: state.hanging == 1, "the call reached the core")
        call.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await call
        await _until(lambda: state.disconnected == 1, "the core saw the client go")

    asyncio.run(main())
    core.close()


def test_each_loop_has_its_own_client_and_closes_it(fake: tuple[FakeCore, str]) -> None:
    _, url = fake
    core = RemoteCore(url)
    for _ in range(3):  # each asyncio.run is a new loop; the one before closed its client on shutdown
        assert asyncio.run(core.send_async(CoreCall("GET", "/counted/loops")))["status"] == "OK"
    assert core.send_sync(CoreCall("GET", "/counted/loops"))["calls"] == 4  # the sync side, alongside
    core.close()
    assert asyncio.run(core.send_async(CoreCall("GET", "/counted/loops")))["calls"] == 5  # reopened after close
    core.close()


def test_a_loop_still_running_gets_its_client_closed_on_it(fake: tuple[FakeCore, str]) -> None:
    _, url = fake
    core = RemoteCore(url)
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(core.send_async(CoreCall("GET", "/counted/kept")))["calls"] == 1
        core.close()  # the loop is not running: closed on it at once
        assert loop.run_until_complete(core.send_async(CoreCall("GET", "/counted/kept")))["calls"] == 2
        core.close()
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


@pytest.mark.parametrize("side", ["sync", "async"])
def test_the_rules_are_the_same_on_both_sides(fake: tuple[FakeCore, str], side: str) -> None:
    state, url = fake
    core = RemoteCore(f"http://127.0.0.1:{free_port()};{url}")  # the first host refuses connections

    def send(name: str) -> dict[str, Any]:
        call = CoreCall("GET", f"/counted/{name}-{side}")
        return core.send_sync(call) if side == "sync" else asyncio.run(core.send_async(call))

    assert send("busy")["calls"] == 3  # two 429s retried
    with pytest.raises(CoreUnavailableError):
        send("limited")  # gatepass core's own limit: not retried
    assert state.calls[f"limited-{side}"] == 1
    with pytest.raises(CoreError) as broken:
        send("broken")
    assert "500" in str(broken.value) and "secrets" not in str(broken.value)
    with pytest.raises(CoreUnavailableError):
        send("garbled")
    with pytest.raises(CoreError, match="not JSON"):
        body = {"n": float("nan")}
        call = CoreCall("POST", f"/counted/nan-{side}", body)
        core.send_sync(call) if side == "sync" else asyncio.run(core.send_async(call))
    core.close()
    nowhere = RemoteCore(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(CoreUnavailableError, match="no core reachable"):
        nowhere.send_sync(CoreCall("GET", "/apiversion")) if side == "sync" else asyncio.run(
            nowhere.send_async(CoreCall("GET", "/apiversion"))
        )
    nowhere.close()
