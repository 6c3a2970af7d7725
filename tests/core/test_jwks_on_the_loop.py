"""Where the core answers the JWKS (a public endpoint, no API key): on the event loop with no thread hop once the
app's keys are in memory and none is due; in a worker thread when a key must be read or made first, which never
happens on the loop. The answer is the same either way."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from gatepass.core import http_app
from gatepass.core.app_config import AppConfig
from gatepass.core.http_app import CoreHttpApp
from gatepass.core.runtime import CoreRuntime
from tests.core.test_where_handlers_run import SpiedSqlite, _spy_key_generation


class CountingWorkers(ThreadPoolExecutor):
    """The worker threads' executor, counting the work handed to it."""

    def __init__(self) -> None:
        super().__init__(max_workers=2, thread_name_prefix="gatepass-worker")
        self.handed = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.handed += 1
        return super().submit(fn, *args, **kwargs)


@pytest.mark.asyncio
async def test_the_jwks_is_answered_on_the_loop_once_the_keys_are_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made_on_loop = _spy_key_generation(monkeypatch)
    workers = CountingWorkers()
    monkeypatch.setattr(http_app, "_WORKERS", workers)
    now = [1_800_000_000_000]
    storage = SpiedSqlite(str(tmp_path / "jwks.db"), local=True)
    config = AppConfig(access_token_dynamic_signing_key_update_interval=3 / 3600)  # 3 s: within the app cache's life
    runtime = CoreRuntime(storage, config, clock=lambda: now[0])
    transport = httpx.ASGITransport(app=CoreHttpApp(runtime))  # type: ignore[arg-type]

    async def jwks() -> tuple[dict[str, Any], str, int, bool]:
        handed, storage.threads[:] = workers.handed, []
        answer = await client.get("/.well-known/jwks.json")
        assert answer.status_code == 200
        return answer.json(), answer.headers["cache-control"], workers.handed - handed, bool(storage.threads)

    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://core") as client:
            first, _, hops, used_database = await jwks()  # a new app: its keys are made in a worker thread
            assert (hops, used_database) == (1, True) and len(made_on_loop) == 2 and not any(made_on_loop)
            again, cache_control, hops, used_database = await jwks()
            assert (hops, used_database) == (0, False)  # on the loop: no hop, no database
            assert again == first and cache_control.startswith("max-age=")
            now[0] += config.key_times.update_interval_ms  # the schedule wants a new dynamic key
            rotated, _, hops, used_database = await jwks()
            assert (hops, used_database) == (1, True) and len(made_on_loop) == 3 and not any(made_on_loop)
            kids = [key["kid"] for key in rotated["keys"]]
            assert len(kids) == len(first["keys"]) + 1 and set(kids) > {key["kid"] for key in first["keys"]}
            assert (await jwks())[0] == rotated and workers.handed == 2  # back on the loop, the same answer
    finally:
        runtime.close()
        workers.shutdown()


@pytest.mark.asyncio
async def test_the_jwks_of_a_core_that_has_not_read_its_static_key_goes_to_a_worker(tmp_path: Path) -> None:
    """Another process made the keys: this one has them in neither memory nor its app cache at first."""
    storage = SpiedSqlite(str(tmp_path / "shared.db"), local=True)
    maker = CoreRuntime(storage, AppConfig())
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=CoreHttpApp(maker)),  # type: ignore[arg-type]
            base_url="http://core",
        ) as client:
            made = (await client.get("/.well-known/jwks.json")).json()
        reader = CoreRuntime(SpiedSqlite(str(tmp_path / "shared.db"), local=True), AppConfig())
        loop_thread = threading.get_ident()
        try:
            ctx = reader.apps.get("public")
            ctx.keyring.load_keys()  # dynamic keys in memory, the static key not yet
            assert ctx.keyring.jwks_without_io(ctx.config.key_times) is None
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=CoreHttpApp(reader)),  # type: ignore[arg-type]
                base_url="http://core",
            ) as client:
                read_storage = reader.storage
                assert isinstance(read_storage, SpiedSqlite)
                read_storage.threads.clear()
                assert (await client.get("/.well-known/jwks.json")).json() == made
                assert read_storage.threads and loop_thread not in read_storage.threads
        finally:
            reader.close()
    finally:
        maker.close()


@pytest.mark.asyncio
async def test_across_the_timeline_the_jwks_holds_the_signing_key_and_only_live_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever path answers it, at every moment (steps within an interval, across rotations, and idle gaps long
    enough for every key to die): the JWKS is what the keyring publishes at that moment, it holds the key a token
    would be signed with then, it holds no dead dynamic key, and no key is ever generated on the loop."""
    from gatepass.tokens import key_schedule

    made_on_loop = _spy_key_generation(monkeypatch)
    now = [1_800_000_000_000]
    config = AppConfig(access_token_dynamic_signing_key_update_interval=3 / 3600, access_token_validity=2)
    runtime = CoreRuntime(SpiedSqlite(str(tmp_path / "timeline.db"), local=True), config, clock=lambda: now[0])
    times = config.key_times
    step = times.update_interval_ms // 7
    gaps = [step] * 20 + [times.update_interval_ms] * 3 + [50 * times.update_interval_ms] + [step] * 10
    gaps += [3 * times.access_validity_ms, times.update_interval_ms - 1, 1, 1, 10 * 3600 * 1000] + [step] * 8
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=CoreHttpApp(runtime)),  # type: ignore[arg-type]
            base_url="http://core",
        ) as client:
            for gap in [0, *gaps]:
                now[0] += gap
                answer = await client.get("/.well-known/jwks.json")
                assert answer.status_code == 200
                kids = [key["kid"] for key in answer.json()["keys"]]
                keyring = runtime.apps.get("public").keyring
                published, _ = keyring.jwks(times)  # the clock has not moved: nothing is due now
                assert kids == [key["kid"] for key in published], now[0]
                signing_kid = keyring.signing_key(times, static=False).kid
                assert signing_kid in kids and kids[-1].startswith("s-")
                dynamic = {key.kid: key for key in keyring._dynamic}
                assert all(key_schedule.is_live(dynamic[kid], now[0], times) for kid in kids[:-1]), now[0]
        assert made_on_loop and not any(made_on_loop)
    finally:
        runtime.close()
