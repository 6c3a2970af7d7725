"""Where the HTTP app runs a handler's database work: on the event loop for the short session operations on a local
database (SQLite), in a worker thread otherwise (a remote database such as PostgreSQL, and the long operations on
any database). The storage is spied on to see which thread each transaction runs on."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from gatepass.core.app_config import AppConfig
from gatepass.core.http_app import CoreHttpApp
from gatepass.core.runtime import CoreRuntime
from gatepass.storage.contract import Transaction
from gatepass.storage.sqlite import SqliteStorage
from gatepass.tokens.jws import Unsigned


class SpiedSqlite(SqliteStorage):
    """SQLite that records the thread of every transaction; ``local`` as the test sets it."""

    def __init__(self, path: str, local: bool) -> None:
        self.threads: list[int] = []
        self.local = local  # type: ignore[misc]
        super().__init__(path)

    def transaction(self) -> AbstractContextManager[Transaction]:
        return self._spied(super().transaction())

    def read(self) -> AbstractContextManager[Transaction]:
        return self._spied(super().read())

    @contextmanager
    def _spied(self, inner: AbstractContextManager[Transaction]) -> Iterator[Transaction]:
        self.threads.append(threading.get_ident())
        with inner as tx:
            yield tx


async def _calls(storage: SpiedSqlite) -> dict[str, set[bool]]:
    """Each call's transactions: True where one ran on the event loop's thread."""
    runtime = CoreRuntime(storage, AppConfig())
    loop_thread = threading.get_ident()
    seen: dict[str, set[bool]] = {}
    transport = httpx.ASGITransport(app=CoreHttpApp(runtime))  # type: ignore[arg-type]
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://core") as client:

            async def call(name: str, method: str, path: str, body: object = None) -> httpx.Response:
                storage.threads.clear()
                answer = await client.request(method, path, json=body)
                assert answer.status_code == 200, answer.text
                seen[name] = {ident == loop_thread for ident in storage.threads}
                return answer

            await call("jwks", "GET", "/.well-known/jwks.json")  # keys exist before the session calls
            created = (await call("create", "POST", "/recipe/session", {"userId": "u"})).json()
            refresh = {"refreshToken": created["refreshToken"]["token"], "useDynamicSigningKey": True}
            refreshed = (await call("refresh", "POST", "/recipe/session/refresh", refresh)).json()
            promote = {"accessToken": refreshed["accessToken"]["token"], "doAntiCsrfCheck": False}
            await call("verify (promotes)", "POST", "/recipe/session/verify", {**promote, "enableAntiCsrf": False})
            await call("devices", "GET", "/recipe/session/user/sessions?userId=u")
    finally:
        runtime.close()
    return seen


@pytest.mark.asyncio
async def test_short_operations_on_sqlite_run_on_the_event_loop(tmp_path: Path) -> None:
    seen = await _calls(SpiedSqlite(str(tmp_path / "local.db"), local=True))
    assert seen["create"] == seen["refresh"] == seen["verify (promotes)"] == {True}
    assert seen["devices"] == {False}  # a listing is not short: a worker thread, even on SQLite


@pytest.mark.asyncio
async def test_on_a_remote_database_every_transaction_runs_in_a_worker_thread(tmp_path: Path) -> None:
    seen = await _calls(SpiedSqlite(str(tmp_path / "remote.db"), local=False))
    assert all(threads == {False} for threads in seen.values()), seen


@pytest.mark.asyncio
async def test_a_short_operation_waits_in_a_worker_thread_while_another_process_writes(tmp_path: Path) -> None:
    import fcntl
    import os

    storage = SpiedSqlite(str(tmp_path / "busy.db"), local=True)
    runtime = CoreRuntime(storage, AppConfig())
    loop_thread = threading.get_ident()
    transport = httpx.ASGITransport(app=CoreHttpApp(runtime))  # type: ignore[arg-type]
    other_writer = os.open(str(tmp_path / "busy.db-writer.lock"), os.O_RDWR)  # as another process would hold it
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://core") as client:
            await client.get("/.well-known/jwks.json")
            fcntl.flock(other_writer, fcntl.LOCK_EX)
            threading.Timer(0.3, fcntl.flock, (other_writer, fcntl.LOCK_UN)).start()
            storage.threads.clear()
            answer = await client.post("/recipe/session", json={"userId": "u"})
            assert answer.status_code == 200 and answer.json()["status"] == "OK"
            assert storage.threads and loop_thread not in storage.threads  # the loop did not wait on the lock
            storage.threads.clear()
            await client.post("/recipe/session", json={"userId": "u"})  # the writer is gone: back on the loop
            assert set(storage.threads) == {loop_thread}
    finally:
        os.close(other_writer)
        runtime.close()


def _spy_key_generation(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each RSA key generation from now on, True where it ran on an event loop's thread."""
    from gatepass.core import keyring

    made_on_loop: list[bool] = []
    real_generate = keyring.generate_rsa_key

    def spied_generate() -> object:
        try:
            asyncio.get_running_loop()
            made_on_loop.append(True)
        except RuntimeError:
            made_on_loop.append(False)
        return real_generate()

    monkeypatch.setattr(keyring, "generate_rsa_key", spied_generate)
    return made_on_loop


@pytest.mark.asyncio
async def test_keys_are_made_off_the_loop_and_the_loop_signs_only_with_keys_ready(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No dynamic signing key is generated on the event loop: not for a new app's first session, not when the
    schedule rotates the key; the operation that finds keys missing or due runs in a worker thread, which makes
    them, and the next one is back on the loop."""
    made_on_loop = _spy_key_generation(monkeypatch)
    now = [1_800_000_000_000]
    storage = SpiedSqlite(str(tmp_path / "keys.db"), local=True)
    config = AppConfig(access_token_dynamic_signing_key_update_interval=3 / 3600)  # 3 s: within the app cache's life
    runtime = CoreRuntime(storage, config, clock=lambda: now[0])
    loop_thread = threading.get_ident()
    transport = httpx.ASGITransport(app=CoreHttpApp(runtime))  # type: ignore[arg-type]

    async def create() -> set[bool]:
        storage.threads.clear()
        answer = await client.post("/recipe/session", json={"userId": "u"})
        assert answer.status_code == 200 and answer.json()["status"] == "OK", answer.text
        return {ident == loop_thread for ident in storage.threads}

    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://core") as client:
            assert await create() == {False}  # a new app: no keys yet, so a worker thread makes them
            assert made_on_loop and not any(made_on_loop)
            assert await create() == {True}  # keys ready: on the loop
            made = len(made_on_loop)
            now[0] += config.key_times.update_interval_ms  # the schedule wants a new signing key
            assert runtime.apps.cached("public", "public") is not None  # so only the keys send it off the loop
            assert await create() == {False}
            assert len(made_on_loop) == made + 1 and not any(made_on_loop)
            assert await create() == {True}
            made = len(made_on_loop)
            now[0] += 50 * config.key_times.update_interval_ms + 3 * config.access_validity_ms  # idle: keys dead
            assert await create() == {False}  # a stale app cache and a due key: both off the loop
            assert len(made_on_loop) == made + 1 and await create() == {True}
            assert not any(made_on_loop)
    finally:
        runtime.close()


class SignatureSpy:
    """Records the thread name of every access-token signature (``jws.Unsigned.sign``); ``during`` runs inside the
    first one made on a signing thread, as something else happening while the RSA work is under way."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, during: Callable[[], None] | None = None) -> None:
        self.threads: list[str] = []
        self._during = during
        real_sign = Unsigned.sign

        def spied(unsigned: Unsigned) -> str:
            name = threading.current_thread().name
            self.threads.append(name)
            if self._during is not None and name.startswith("gatepass-sign"):
                during, self._during = self._during, None
                during()
            return real_sign(unsigned)

        monkeypatch.setattr(Unsigned, "sign", spied)


async def _session_calls(storage: SpiedSqlite, signers: SignatureSpy) -> dict[str, tuple[set[bool], list[str]]]:
    """create, refresh and regenerate, one after another: where their transactions ran (True: the loop) and the
    threads that signed."""
    runtime = CoreRuntime(storage, AppConfig())
    loop_thread = threading.get_ident()
    seen: dict[str, tuple[set[bool], list[str]]] = {}
    transport = httpx.ASGITransport(app=CoreHttpApp(runtime))  # type: ignore[arg-type]
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://core") as client:

            async def call(name: str, path: str, body: object) -> dict[str, Any]:
                storage.threads.clear()
                signers.threads.clear()
                answer = await client.post(path, json=body)
                assert answer.status_code == 200 and answer.json()["status"] == "OK", answer.text
                seen[name] = ({ident == loop_thread for ident in storage.threads}, list(signers.threads))
                result: dict[str, Any] = answer.json()
                return result

            await client.get("/.well-known/jwks.json")
            created = await call("create", "/recipe/session", {"userId": "u", "userDataInJWT": {"a": 1}})
            refresh = {"refreshToken": created["refreshToken"]["token"], "useDynamicSigningKey": True}
            refreshed = await call("refresh", "/recipe/session/refresh", refresh)
            await call("regenerate", "/recipe/session/regenerate", {"accessToken": refreshed["accessToken"]["token"]})
    finally:
        runtime.close()
    return seen


@pytest.mark.asyncio
async def test_a_request_alone_signs_on_the_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing else in the app: a hop to a signing thread would only add its latency."""
    seen = await _session_calls(SpiedSqlite(str(tmp_path / "local.db"), local=True), SignatureSpy(monkeypatch))
    for name, (transactions, signed_on) in seen.items():
        assert transactions == {True}, name
        assert signed_on == [threading.current_thread().name], name


@pytest.mark.asyncio
async def test_in_a_worker_thread_the_signature_is_made_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = await _session_calls(SpiedSqlite(str(tmp_path / "remote.db"), local=False), SignatureSpy(monkeypatch))
    for name, (transactions, signed_on) in seen.items():
        assert transactions == {False}, name
        assert len(signed_on) == 1 and signed_on[0] != threading.current_thread().name, (name, signed_on)
        assert signed_on[0].startswith("gatepass-worker"), (name, signed_on)  # one hop, no second thread


@asynccontextmanager
async def _served(storage: SpiedSqlite, *, warm: bool = True) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a core app on ``storage``; ``warm``: one session created first, so the app's keys all exist."""
    runtime = CoreRuntime(storage, AppConfig())
    transport = httpx.ASGITransport(app=CoreHttpApp(runtime))  # type: ignore[arg-type]
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://core") as client:
            if warm:
                await client.post("/recipe/session", json={"userId": "first"})
            yield client
    finally:
        runtime.close()


async def _concurrent_creates(
    client: httpx.AsyncClient, count: int, prefix: str = "u", expect: int = 200
) -> list[httpx.Response]:
    answers = await asyncio.gather(
        *(client.post("/recipe/session", json={"userId": f"{prefix}{i}"}) for i in range(count))
    )
    assert [answer.status_code for answer in answers] == [expect] * count, [answer.text for answer in answers]
    return list(answers)


@pytest.mark.asyncio
async def test_with_other_requests_in_the_app_signatures_are_made_beside_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Concurrent creates: their signatures are made on signing threads (so the loop serves the others meanwhile),
    their transactions on the loop, and every one gets its own, valid session."""
    storage = SpiedSqlite(str(tmp_path / "busy-loop.db"), local=True)
    async with _served(storage) as client:
        signers = SignatureSpy(monkeypatch)
        storage.threads.clear()
        answers = await _concurrent_creates(client, 6)
        assert signers.threads and all(name.startswith("gatepass-sign") for name in signers.threads)
        assert set(storage.threads) == {threading.get_ident()}
        assert len({answer.json()["session"]["handle"] for answer in answers}) == 6
        for i, answer in enumerate(answers):
            token = answer.json()["accessToken"]["token"]
            verified = await client.post(
                "/recipe/session/verify", json={"accessToken": token, "doAntiCsrfCheck": False}
            )
            assert verified.json()["status"] == "OK" and verified.json()["session"]["userId"] == f"u{i}"


@pytest.mark.asyncio
async def test_a_writer_that_comes_while_signing_sends_the_rest_to_a_worker_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process takes the database's writer lock while a token is being signed beside the loop: no
    transaction runs on the loop while it holds the lock, and every session is created once it is released."""
    import fcntl
    import os

    storage = SpiedSqlite(str(tmp_path / "busy.db"), local=True)
    other_writer = os.open(str(tmp_path / "busy.db-writer.lock"), os.O_RDWR | os.O_CREAT)
    held = threading.Event()  # set while the other process holds the lock

    def release() -> None:
        held.clear()
        fcntl.flock(other_writer, fcntl.LOCK_UN)

    def another_process_writes() -> None:
        fcntl.flock(other_writer, fcntl.LOCK_EX)
        held.set()
        threading.Timer(0.3, release).start()

    asked: list[tuple[bool, bool]] = []  # each transaction: asked on the loop's thread, asked while the lock was held
    real_spied = storage._spied

    def noted(inner: AbstractContextManager[Transaction]) -> AbstractContextManager[Transaction]:
        asked.append((threading.get_ident() == loop_thread, held.is_set()))
        return real_spied(inner)

    loop_thread = threading.get_ident()
    try:
        async with _served(storage) as client:
            signers = SignatureSpy(monkeypatch, during=another_process_writes)
            monkeypatch.setattr(storage, "_spied", noted)
            answers = await _concurrent_creates(client, 4)
            assert not held.is_set() and any(name.startswith("gatepass-sign") for name in signers.threads)
            assert len(asked) == 4  # one insert each
            assert (True, True) not in asked  # the loop never asked for the database while the lock was held
            assert (False, True) in asked  # a worker thread did, and waited
            listed = await client.get("/recipe/session/user", params={"userId": "u0"})
            assert listed.json()["sessionHandles"] == [answers[0].json()["session"]["handle"]]
    finally:
        os.close(other_writer)


@pytest.mark.asyncio
@pytest.mark.parametrize(("local", "concurrent"), [(True, False), (True, True), (False, False)])
async def test_a_signature_that_fails_answers_500_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, local: bool, concurrent: bool
) -> None:
    """On the loop, beside it (concurrent requests) or in a worker thread: a signature that fails answers 500 and
    leaves no session row behind (the token is signed before the insert), and the server goes on."""
    real_sign = Unsigned.sign
    failed_on: list[str] = []

    def broken(_: Unsigned) -> str:
        failed_on.append(threading.current_thread().name)
        raise MemoryError("no memory left for the signature")

    async with _served(SpiedSqlite(str(tmp_path / "failing.db"), local=local), warm=False) as client:
        await client.get("/.well-known/jwks.json")
        monkeypatch.setattr(Unsigned, "sign", broken)
        failed = await _concurrent_creates(client, 3 if concurrent else 1, expect=500)
        assert {answer.text for answer in failed} == {"Internal Error"}
        assert len(failed_on) == len(failed)
        assert any(name.startswith("gatepass-sign") for name in failed_on) == concurrent  # beside the loop
        for i in range(len(failed)):
            listed = await client.get("/recipe/session/user", params={"userId": f"u{i}"})
            assert listed.json()["sessionHandles"] == []
        monkeypatch.setattr(Unsigned, "sign", real_sign)
        again = await client.post("/recipe/session", json={"userId": "u0"})  # the server is not wedged
        assert again.status_code == 200 and again.json()["status"] == "OK"


class WriterComesDuringTheTurn(SpiedSqlite):
    """SQLite whose writer is idle when the app first asks, and busy when it asks again (another thread took it
    during the loop's turn)."""

    answers: list[bool]

    def writer_idle(self) -> bool:
        return self.answers.pop(0) if self.answers else super().writer_idle()


@pytest.mark.asyncio
async def test_a_writer_that_comes_during_the_loops_turn_sends_the_operation_to_a_worker_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = WriterComesDuringTheTurn(str(tmp_path / "turn.db"), local=True)
    async with _served(storage) as client:
        signers = SignatureSpy(monkeypatch)
        storage.threads.clear()
        storage.answers = [True, False]  # idle for the first check, busy after the turn
        answer = await client.post("/recipe/session", json={"userId": "u"})
        assert answer.status_code == 200 and answer.json()["status"] == "OK"
        assert storage.answers == []  # both checks were made
        assert len(storage.threads) == 1 and storage.threads[0] != threading.get_ident()
        assert len(signers.threads) == 1 and signers.threads[0] != threading.current_thread().name


@pytest.mark.asyncio
async def test_a_key_that_falls_due_during_the_loops_turn_is_made_in_a_worker_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clock passes the key's rotation time between the app's first look (keys ready) and the turn's end: the
    operation goes to a worker thread, which makes the new key; the loop never generates one."""
    made_on_loop = _spy_key_generation(monkeypatch)
    now = [1_800_000_000_000]
    config = AppConfig(access_token_dynamic_signing_key_update_interval=3 / 3600)
    storage = SpiedSqlite(str(tmp_path / "due.db"), local=True)
    runtime = CoreRuntime(storage, config, clock=lambda: now[0])
    app = CoreHttpApp(runtime)
    real_may_run = CoreHttpApp._may_run_on_loop
    looks: list[bool] = []

    def first_look_then_time_passes(self: CoreHttpApp, resolved: Any) -> bool:
        answer = real_may_run(self, resolved)
        looks.append(answer)
        if len(looks) == 1:
            now[0] += config.key_times.update_interval_ms  # during the turn
        return answer

    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://core") as client:
            await client.post("/recipe/session", json={"userId": "first"})  # keys made (in a worker thread)
            made = len(made_on_loop)
            monkeypatch.setattr(CoreHttpApp, "_may_run_on_loop", first_look_then_time_passes)
            storage.threads.clear()
            answer = await client.post("/recipe/session", json={"userId": "u"})
            assert answer.status_code == 200 and answer.json()["status"] == "OK"
            assert looks == [True, False]
            assert len(made_on_loop) == made + 1 and not any(made_on_loop)
            assert storage.threads and threading.get_ident() not in storage.threads
    finally:
        runtime.close()


HOSTILE_CREATES = {
    "5,000 digits": b'{"userId": "u", "userDataInJWT": {"n": ' + b"9" * 5000 + b"}}",
    "1e309": b'{"userId": "u", "userDataInJWT": {"n": 1e309}}',
    "lone surrogate": b'{"userId": "\\ud800"}',
    "NUL in the user id": b'{"userId": "u\\u0000v"}',
    "deep nesting": b'{"userId": "u", "userDataInJWT": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001,
    "1 MB string": b'{"userId": "u", "userDataInDatabase": {"s": "' + b"x" * (1024 * 1024) + b'"}}',
}


@pytest.mark.asyncio
@pytest.mark.parametrize("concurrent", [False, True])
async def test_hostile_create_bodies_are_refused_on_every_path(tmp_path: Path, concurrent: bool) -> None:
    """On the loop alone or beside other requests: each hostile body is a 400 and no session is written."""
    import sqlite3

    path = tmp_path / "hostile.db"
    headers = {"content-type": "application/json"}
    async with _served(SpiedSqlite(str(path), local=True), warm=False) as client:
        await client.get("/.well-known/jwks.json")
        for name, body in HOSTILE_CREATES.items():
            sent = [
                client.post("/recipe/session", content=body, headers=headers) for _ in range(3 if concurrent else 1)
            ]
            answers = await asyncio.gather(*sent)
            assert {answer.status_code for answer in answers} == {400}, (name, [a.text[:200] for a in answers])
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM session_info").fetchone() == (0,)
