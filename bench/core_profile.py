"""Benchmark: where a core request's time goes. The core's ASGI app (what uvicorn serves, minus uvicorn) is called
in-process for ``/hello``, verify, create and refresh on SQLite, with the core's default logging (to a file), first
without a profiler (the per-request time, back to back and after a short idle gap) and then under cProfile, whose
per-function own times are summed into buckets: the RSA operation, SQLite, the lifecycle log line, JSON, Starlette,
and gatepass with the rest. cProfile slows Python code more than C code, so the Python buckets' shares are upper
bounds. cProfile sees only the event loop's thread, so any signature made on one of the core's signing threads is
timed where it is made (around ``SigningKey.sign``) and the loop's idle wait for it is left out. Writes the "Where a
core request's time goes" section of BENCHMARKS.md. Run: ``.venv/bin/python bench/core_profile.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import logging
import pstats
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.core_http import machine_line  # noqa: E402
from bench.report import markdown_table, write_section  # noqa: E402
from gatepass.core.http_app import CoreHttpApp  # noqa: E402
from gatepass.core.runtime import CoreRuntime  # noqa: E402
from gatepass.logs import log_handler  # noqa: E402
from gatepass.tokens.keys import SigningKey  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
Call = Callable[[int], Awaitable[None]]
IDLE_COLUMN = "µs per request after 0.3 ms idle"
IN_FLIGHT_COLUMN = "CPU µs per request, 16 at once"
BUCKETS = ["RSA", "SQLite", "log line", "JSON", "Starlette", "gatepass and the rest"]


def _bucket(filename: str, name: str) -> str:
    if "RSAPrivateKey" in name or "RSAPublicKey" in name:
        return "RSA"
    if "sqlite3" in name:
        return "SQLite"
    if "/logging/" in filename or filename.endswith("gatepass/logs.py") or "_io.TextIOWrapper" in name:
        return "log line"
    if "/json/" in filename or "_json" in name or "json.scanner" in name:
        return "JSON"
    if "/starlette/" in filename:
        return "Starlette"
    return "gatepass and the rest"


class Driver:
    """ASGI calls to the core's app, as uvicorn would make them for one keep-alive client."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def call(self, method: str, path: str, body: bytes = b"") -> bytes:
        headers = [(b"host", b"127.0.0.1"), (b"cdi-version", b"5.4"), (b"content-type", b"application/json")]
        headers.append((b"content-length", str(len(body)).encode()))
        scope: dict[str, Any] = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method}
        scope |= {"scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": ""}
        scope |= {"headers": headers, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 3567)}
        sent: list[bytes] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                sent.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return b"".join(sent)

    async def json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = json.loads(await self.call("POST", path, json.dumps(body).encode()))
        if answer.get("status") != "OK":
            raise RuntimeError(f"{path} answered {answer.get('status')}")
        return answer


def _token_in(answer: bytes, field: str) -> str:
    """The token of ``field`` in a core answer, found without JSON (the driver's work stays out of the buckets)."""
    marker = f'"{field}":{{"token":"'.encode()
    if marker not in answer:
        raise RuntimeError(f"no {field} in the answer: {answer[:200]!r}")
    return answer.split(marker, 1)[1].split(b'"', 1)[0].decode()


async def _operations(driver: Driver, count: int) -> dict[str, Call]:
    session = await driver.json("/public/recipe/session", {"userId": "profile", "userDataInJWT": {"role": "x"}})
    verify_body = json.dumps({"accessToken": session["accessToken"]["token"], "doAntiCsrfCheck": False}).encode()
    lineages = {0: session["refreshToken"]["token"]}  # request i refreshes lineage i % IN_FLIGHT
    create_bodies: dict[int, bytes] = {}

    async def hello(_: int) -> None:
        await driver.call("GET", "/hello")

    async def verify(_: int) -> None:
        await driver.call("POST", "/recipe/session/verify", verify_body)

    async def create(i: int) -> None:
        body = create_bodies.pop(i, None) or json.dumps({"userId": f"p-{i}", "userDataInJWT": {"role": "x"}}).encode()
        _token_in(await driver.call("POST", "/public/recipe/session", body), "accessToken")

    async def refresh(i: int) -> None:  # each refresh promotes the token the one before it made in its lineage
        lineage = i % IN_FLIGHT
        token = lineages.get(lineage)
        if token is None:  # first seen in the warm-up
            started = await driver.call("POST", "/public/recipe/session", b'{"userId":"p-%d"}' % lineage)
            token = _token_in(started, "refreshToken")
        body = b'{"refreshToken":"' + token.encode() + b'","useDynamicSigningKey":true}'
        lineages[lineage] = _token_in(await driver.call("POST", "/recipe/session/refresh", body), "refreshToken")

    def prepare_creates(start: int) -> None:  # bodies made before a profiled run, so their JSON is not counted
        for i in range(start, start + count):
            create_bodies[i] = json.dumps({"userId": f"p-{i}", "userDataInJWT": {"role": "x"}}).encode()

    create.prepare = prepare_creates  # type: ignore[attr-defined]
    return {"floor (GET /hello)": hello, "verify": verify, "create": create, "refresh": refresh}


async def _per_request_s(call: Call, count: int, start: int) -> float:
    began = time.perf_counter()
    for i in range(count):
        await call(start + i)
    return (time.perf_counter() - began) / count


IDLE_GAP_S = 0.0003  # about what a server's event loop waits between requests from a few clients


async def _per_request_after_idle_s(call: Call, count: int, start: int) -> float:
    """Like ``_per_request_s``, but the thread sleeps ``IDLE_GAP_S`` before each request (the sleep not counted):
    what a request costs on a core that was just idle, as a server's are between requests."""
    spent = 0.0
    for i in range(count):
        time.sleep(IDLE_GAP_S)
        began = time.perf_counter()
        await call(start + i)
        spent += time.perf_counter() - began
    return spent / count


IN_FLIGHT = 16  # as many requests at once as the HTTP benchmark's connections


async def _cpu_per_request_in_flight_s(call: Call, count: int, start: int) -> float:
    """The process's CPU time (every thread's, user and system) per request, ``IN_FLIGHT`` requests at once: a
    signature is then made on a signing thread, as over HTTP, and its hand-offs are counted."""

    async def client(first: int) -> None:  # client k sends requests k, k + IN_FLIGHT, ...: one lineage each
        for i in range(first, start + count, IN_FLIGHT):
            await call(i)

    before = resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.gather(*(client(start + k) for k in range(IN_FLIGHT)))
    after = resource.getrusage(resource.RUSAGE_SELF)
    return (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) / count


class SignatureClock:
    """Wall time spent in ``SigningKey.sign`` on any thread (the core signs on its signing threads, which cProfile,
    bound to the loop's thread, does not see)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._lock = threading.Lock()
        real = SigningKey.sign

        def timed(key: SigningKey, signing_input: bytes) -> bytes:
            began = time.perf_counter()
            try:
                return real(key, signing_input)
            finally:
                with self._lock:
                    self.seconds += time.perf_counter() - began

        SigningKey.sign = timed  # type: ignore[method-assign]


SIGNATURES = SignatureClock()


def _shares(stats: pstats.Stats, signing_s: float) -> dict[str, float]:
    own: dict[str, float] = dict.fromkeys(BUCKETS, 0.0)
    for (filename, _, name), entry in stats.stats.items():  # type: ignore[attr-defined]
        if filename == __file__ or name.startswith("<method 'disable'") or name.endswith("'select.epoll' objects>"):
            continue  # the driver, the profiler's own switch, and the loop waiting (for a signing thread)
        own[_bucket(filename, name)] += entry[2]
    own["RSA"] += signing_s
    total = sum(own.values())
    return {bucket: value / total for bucket, value in own.items()}


async def _profile(operations: dict[str, Call], count: int, runs: int) -> list[list[str]]:
    rows = []
    for offset, (name, call) in enumerate(operations.items()):
        base = (offset + 1) * 10_000_000
        await _per_request_s(call, count // 4, base)  # warm
        per_request = min([await _per_request_s(call, count, base + (r + 1) * count) for r in range(runs)])
        after_idle = min(
            [await _per_request_after_idle_s(call, count // 2, base + 5_000_000 + r * count) for r in range(runs)]
        )
        in_flight = min(
            [await _cpu_per_request_in_flight_s(call, count, base + 7_000_000 + r * count) for r in range(runs)]
        )
        prepare = getattr(call, "prepare", None)
        if prepare is not None:
            prepare(base + 9_000_000)
        profiler = cProfile.Profile()
        signed_before = SIGNATURES.seconds
        profiler.enable()
        await _per_request_s(call, count, base + 9_000_000)
        profiler.disable()
        shares = _shares(pstats.Stats(profiler), SIGNATURES.seconds - signed_before)
        shares_text = [f"{shares[bucket] * 100:.0f} %" for bucket in BUCKETS]
        times = [f"{value * 1e6:.0f}" for value in (per_request, after_idle, in_flight)]
        rows.append([name, *times, *shares_text])
        print(name, rows[-1][1:], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = logging.getLogger("gatepass")
        with open(Path(tmp) / "core.log", "w") as log_file:
            log.addHandler(log_handler(log_file))
            log.setLevel(logging.INFO)
            runtime = CoreRuntime.open(f"sqlite:///{Path(tmp) / 'profile.db'}")
            try:
                driver = Driver(CoreHttpApp(runtime))
                rows = asyncio.run(_async_main(driver, args.requests, args.runs))
            finally:
                runtime.close()
    header = ["operation", "µs per request (no profiler)", IDLE_COLUMN, IN_FLIGHT_COLUMN]
    header += [f"{bucket} (share)" for bucket in BUCKETS]
    intro = (
        f"The core's ASGI app called in-process (no uvicorn, no sockets) on SQLite with its default logging to a "
        f"file: the best of {args.runs} runs of {args.requests:,} requests each without a profiler, back to back; "
        f"the best of {args.runs} runs of {args.requests // 2:,} requests each, the thread idle for 0.3 ms before "
        "each (the sleep not counted: what a request costs on a core that has just been idle, as a server's is "
        "between its clients' requests, where the composed floor's parts are all measured in hot loops); the "
        f"process's CPU time per request (every thread's, user and system), best of {args.runs} runs of "
        f"{args.requests:,} with {IN_FLIGHT} at once, as over HTTP, so that signatures are made on signing threads "
        "and their hand-offs count; then "
        f"{args.requests:,} under cProfile, whose per-function own times are summed into the buckets below "
        "(`RSA`: OpenSSL's signing or verifying; `SQLite`: statements and commits; `log line`: the lifecycle line "
        "of security checklist 34; `Starlette`: request and response objects). cProfile slows Python "
        "code more than C code, so the Python buckets are upper bounds and RSA and SQLite lower bounds. Requests "
        "come one at a time here, so the core signs on its event loop (on a signing thread only while other "
        "requests are in the app); a signature made on another thread, which cProfile does not see, would be "
        "timed where it is made. Over "
        "HTTP each request also pays the server's own share: what `/hello` costs over HTTP minus what it costs "
        "here. `verify` repeats one token, so its signature and parse come from the memo of checked tokens.\n\n"
        f"Machine: {machine_line()}. Shared and noisy: compare shares, not absolute numbers."
    )
    text = markdown_table(header, rows)
    write_section(ROOT / "BENCHMARKS.md", "Where a core request's time goes", intro + "\n\n" + text)
    print(text)


async def _async_main(driver: Driver, count: int, runs: int) -> list[list[str]]:
    return await _profile(await _operations(driver, count), count, runs)


if __name__ == "__main__":
    main()
