"""Benchmark: create, refresh and verify through the core's HTTP API, on SQLite and PostgreSQL, against a floor
measured in the same run (the same server answering ``/hello``). Writes the "Session core over HTTP" section of
BENCHMARKS.md. Run: ``.venv/bin/python bench/core_http.py [--seconds 2] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sqlite3
import ssl
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.http_load import LoadResult, run_load  # noqa: E402
from bench.report import write_section  # noqa: E402
from tests.helpers import CoreProcess, create_pg_schema, drop_pg_schema, postgres_available, start_core  # noqa: E402

HEADERS = {"cdi-version": "5.4"}
CONNECTIONS = 8


def _body(value: dict[str, Any]) -> bytes:
    return json.dumps(value).encode()


def _session(core: CoreProcess, user: str) -> dict[str, Any]:
    response = httpx.post(core.url + "/public/recipe/session", json={"userId": user}, headers=HEADERS)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


async def _measure(core: CoreProcess, operation: str, seconds: float) -> LoadResult:
    port = int(core.url.rsplit(":", 1)[1])
    observe = None
    if operation == "floor (GET /hello)":

        def make(_: int) -> tuple[str, str, bytes]:
            return "GET", "/hello", b""

    elif operation == "verify":
        token = _session(core, "bench-verify")["accessToken"]["token"]
        body = _body({"accessToken": token, "doAntiCsrfCheck": False, "enableAntiCsrf": False})

        def make(_: int) -> tuple[str, str, bytes]:
            return "POST", "/recipe/session/verify", body

    elif operation == "create":

        def make(i: int) -> tuple[str, str, bytes]:
            return "POST", "/public/recipe/session", _body({"userId": f"bench-{i}", "userDataInJWT": {"role": "x"}})

    else:  # refresh: each connection walks its own session's lineage, so every refresh promotes (one write)
        current = [_session(core, f"bench-refresh-{i}")["refreshToken"]["token"] for i in range(CONNECTIONS)]

        def make(i: int) -> tuple[str, str, bytes]:
            return "POST", "/recipe/session/refresh", _body({"refreshToken": current[i], "useDynamicSigningKey": True})

        def observe(i: int, answer: dict[str, Any]) -> None:
            if answer.get("status") != "OK":
                raise RuntimeError(f"refresh failed: {answer.get('status')}")
            current[i] = answer["refreshToken"]["token"]

    return await run_load(
        "127.0.0.1", port, make, seconds=seconds, connections=CONNECTIONS, headers=HEADERS, observe=observe
    )


OPERATIONS = ["floor (GET /hello)", "verify", "create", "refresh"]


def bench_backend(label: str, database_url: str, seconds: float, runs: int, log_dir: Path) -> list[list[str]]:
    core = start_core(database_url, log_dir / f"{label}.log", ["--log-level", "warning"])
    try:
        medians: dict[str, tuple[float, float, float]] = {}
        for operation in OPERATIONS:
            results = [asyncio.run(_measure(core, operation, seconds)) for _ in range(runs)]
            rates = [r.per_second for r in results]
            medians[operation] = (
                statistics.median(rates),
                statistics.median(r.p50_ms for r in results),
                statistics.median(r.p99_ms for r in results),
            )
            print(f"{label:10} {operation:20} {medians[operation][0]:9.0f} req/s", flush=True)
    finally:
        core.stop()
    floor = medians[OPERATIONS[0]][0]
    return [
        [label, op, f"{rate:,.0f}", f"{p50:.2f}", f"{p99:.2f}", f"{rate / floor:.2f}"]
        for op, (rate, p50, p99) in medians.items()
    ]


def machine_line() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}; {ssl.OPENSSL_VERSION}; "
        f"SQLite {sqlite3.sqlite_version}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        rows += bench_backend("SQLite", f"sqlite:///{tmp_path / 'bench.db'}", args.seconds, args.runs, tmp_path)
        if postgres_available():
            schema, url = create_pg_schema()
            try:
                rows += bench_backend("PostgreSQL", url, args.seconds, args.runs, tmp_path)
            finally:
                drop_pg_schema(schema)
    header = ["backend", "operation", "req/s (median)", "p50 ms", "p99 ms", "ratio to floor"]
    table = [header, ["---"] * len(header), *rows]
    text = "\n".join("| " + " | ".join(row) + " |" for row in table)
    intro = (
        f"One `gatepass core` process (one uvicorn worker), {CONNECTIONS} keep-alive connections from a raw asyncio "
        f"client on the same machine, {args.seconds:g} s per measurement, median of {args.runs} runs. The floor is "
        "the same server answering `GET /hello`, measured in the same run; the ratio is the operation's throughput "
        "over the floor's. `verify` is the stateless path (no database); `create` is one insert and one RS256 "
        "signature; `refresh` walks each session's lineage, so every refresh promotes (one conditional write) and "
        "signs once.\n\n"
        f"Machine: {machine_line()}. Shared and noisy: compare ratios, not absolute numbers."
    )
    write_section(
        Path(__file__).resolve().parents[1] / "BENCHMARKS.md", "Session core over HTTP", intro + "\n\n" + text
    )
    print(text)


if __name__ == "__main__":
    main()
