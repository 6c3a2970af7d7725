"""Benchmark: a FastAPI route behind each SDK's ``verify_session`` (remote core, token in the Authorization header)
against the same app's unprotected route and its route behind a dependency that does nothing (FastAPI's own cost of
one ``Depends``), gatepass's SDK and supertokens-python 0.31.4 on one `gatepass core`.

Each app (``bench/apps``) runs in its own uvicorn process (httptools on uvloop, no access log); both get the same
access token, made by the core. A raw asyncio client with ``CONNECTIONS`` keep-alive connections sends the same
request bytes to ``/open``, ``/noop`` and ``/protected``, ``SECONDS`` per measurement, medians of ``RUNS`` runs taken
in turns.
Writes the "FastAPI route behind verify_session" section of BENCHMARKS.md.
Run: ``.venv/bin/python bench/sdk_fastapi.py``.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.core_http import machine_line  # noqa: E402
from bench.http_load import LoadResult, run_load  # noqa: E402
from bench.report import write_section  # noqa: E402
from tests.helpers import free_port, start_core  # noqa: E402

CONNECTIONS = 16
SECONDS = 2.0
RUNS = 5
APPS = {
    "gatepass SDK": "bench.apps.gatepass_fastapi:app",
    "supertokens-python 0.31.4": "bench.apps.supertokens_fastapi:app",
}
ROUTES = ("/open", "/noop", "/protected")


@contextmanager
def _serving(target: str, core_url: str, log_path: Path) -> Iterator[int]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", target, "--port", str(port), "--http", "httptools"]
    command += ["--loop", "uvloop", "--log-level", "warning", "--no-access-log"]
    env = {**os.environ, "GATEPASS_BENCH_CORE": core_url, "SUPERTOKENS_ENV": "testing"}
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/open", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{target} did not start:\n{log_path.read_text()}") from None
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _access_token(core_url: str) -> str:
    answer = httpx.post(core_url + "/recipe/session", json={"userId": "bench-user"}, headers={"cdi-version": "5.4"})
    answer.raise_for_status()
    token: str = answer.json()["accessToken"]["token"]
    return token


def _measure(port: int, route: str, token: str) -> LoadResult:
    headers = {"authorization": f"Bearer {token}"}
    return asyncio.run(
        run_load(
            "127.0.0.1",
            port,
            lambda _: ("GET", route, b""),
            seconds=SECONDS,
            connections=CONNECTIONS,
            headers=headers,
        )
    )


def _run(core_url: str, tmp: Path) -> dict[tuple[str, str], list[LoadResult]]:
    token = _access_token(core_url)
    results: dict[tuple[str, str], list[LoadResult]] = {}
    with _serving(APPS["gatepass SDK"], core_url, tmp / "gp.log") as gp_port:
        with _serving(APPS["supertokens-python 0.31.4"], core_url, tmp / "st.log") as st_port:
            ports = {"gatepass SDK": gp_port, "supertokens-python 0.31.4": st_port}
            for name, port in ports.items():  # warm up; a protected route that refuses the token is a bench error
                answer = httpx.get(f"http://127.0.0.1:{port}/protected", headers={"authorization": f"Bearer {token}"})
                if answer.status_code != 200:
                    raise RuntimeError(f"{name} refused the token: {answer.status_code} {answer.text[:200]}")
                _measure(port, "/protected", token)
            for _ in range(RUNS):
                for name, port in ports.items():
                    for route in ROUTES:
                        results.setdefault((name, route), []).append(_measure(port, route, token))
    return results


def _table(results: dict[tuple[str, str], list[LoadResult]]) -> str:
    median = statistics.median
    rate = {key: median(r.per_second for r in runs) for key, runs in results.items()}
    peer = rate["supertokens-python 0.31.4", "/protected"]
    lines = [
        "| app | route | req/s (median) | p50 ms | p99 ms | ratio to the same app's /open | "
        "ratio to the same app's /noop | ratio to supertokens-python's /protected |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in APPS:
        for route in ROUTES:
            runs = results[name, route]
            versus_open = rate[name, route] / rate[name, "/open"]
            versus_noop = f"{rate[name, route] / rate[name, '/noop']:.2f}" if route == "/protected" else "-"
            versus_peer = f"{rate[name, route] / peer:.2f}" if route == "/protected" else "-"
            lines.append(
                f"| {name} | `{route}` | {rate[name, route]:,.0f} | {median(r.p50_ms for r in runs):.2f} | "
                f"{median(r.p99_ms for r in runs):.2f} | {versus_open:.2f} | {versus_noop} | {versus_peer} |"
            )
    return "\n".join(lines)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        core = start_core(f"sqlite:///{tmp / 'bench.db'}", tmp / "core.log", ["--log-level", "warning"])
        try:
            results = _run(core.url, tmp)
        finally:
            core.stop()
    intro = (
        "A FastAPI app with three routes, `/open` (no session), `/noop` (`Depends` on an async function that does "
        "nothing: what FastAPI itself costs a route for one dependency) and `/protected` "
        "(`Depends(verify_session())`), "
        "served by uvicorn (httptools on uvloop, one process) for each SDK, both with a remote `gatepass core` on "
        "SQLite and the same access token (made by the core) in the `Authorization: Bearer` header. "
        f"{CONNECTIONS} keep-alive connections from a raw asyncio client on the same machine, {SECONDS:g} s per "
        f"measurement, median of {RUNS} runs taken in turns. Neither SDK calls the core while verifying (keys "
        "cached from the JWKS).\n\n"
        f"Machine: {machine_line()}. Shared and noisy: compare ratios, not absolute numbers."
    )
    text = _table(results)
    write_section(ROOT / "BENCHMARKS.md", "FastAPI route behind verify_session", intro + "\n\n" + text)
    print(text)


if __name__ == "__main__":
    main()
