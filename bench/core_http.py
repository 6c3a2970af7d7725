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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.floors import postgres_insert_tx_s, rs256_sign_s, rs256_verify_s, sqlite_insert_tx_s  # noqa: E402
from bench.http_load import LoadResult, run_load  # noqa: E402
from bench.report import markdown_table, write_section  # noqa: E402
from tests.helpers import CoreProcess, create_pg_schema, drop_pg_schema, postgres_available, start_core  # noqa: E402

HEADERS = {"cdi-version": "5.4"}
CONNECTIONS = 16


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


def _process_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu_s(core: CoreProcess) -> float:
    """The CPU time (user + system) so far of the core process and its live worker processes (``--workers``)."""
    pid = core.process.pid
    total = _process_cpu_s(pid)
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            total += _process_cpu_s(int(child))
        except FileNotFoundError:  # it has just exited
            pass
    return total


def median_run(core: CoreProcess, operation: str, seconds: float, runs: int) -> dict[str, float]:
    """Medians over ``runs`` measurements: rate, p50, p99, p99/p50 and the server's CPU ms per request."""
    rates, p50s, p99s, tails, cpus = [], [], [], [], []
    for _ in range(runs):
        cpu_before = server_cpu_s(core)
        result = asyncio.run(_measure(core, operation, seconds))
        cpus.append((server_cpu_s(core) - cpu_before) / result.requests * 1000)
        rates.append(result.per_second)
        p50s.append(result.p50_ms)
        p99s.append(result.p99_ms)
        tails.append(result.p99_ms / result.p50_ms)
    median = statistics.median
    return {
        "rate": median(rates),
        "p50": median(p50s),
        "p99": median(p99s),
        "tail": median(tails),
        "cpu": median(cpus),
    }


def bench_backend(
    label: str, database_url: str, seconds: float, runs: int, log_dir: Path, floors: dict[str, float]
) -> list[list[str]]:
    """One table row per operation; ``floors`` has ``sign``, ``verify`` and ``tx`` (seconds, in-process)."""
    core = start_core(database_url, log_dir / f"{label}.log")  # default logging: a line per login and refresh
    try:
        measured: dict[str, dict[str, float]] = {}
        for operation in OPERATIONS:
            measured[operation] = median_run(core, operation, seconds, runs)
            print(f"{label:10} {operation:20} {measured[operation]['rate']:9.0f} req/s", flush=True)
    finally:
        core.stop()
    hello_s = 1 / measured[OPERATIONS[0]]["rate"]
    composed = {
        "verify": 1 / (hello_s + floors["verify"]),
        "create": 1 / (hello_s + floors["sign"] + floors["tx"]),
        "refresh": 1 / (hello_s + floors["sign"] + floors["tx"]),
    }
    rows = []
    for operation, m in measured.items():
        floor = composed.get(operation)
        rows.append(
            [
                label,
                operation,
                f"{m['rate']:,.0f}",
                f"{m['p50']:.2f}",
                f"{m['p99']:.2f}",
                f"{m['tail']:.1f}",
                f"{m['cpu']:.3f}",
                f"{m['rate'] * hello_s:.2f}",
                "-" if floor is None else f"{floor:,.0f}",
                "-" if floor is None else f"{m['rate'] / floor:.2f}",
            ]
        )
    return rows


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


def _floors(database: str, pg_url: str | None) -> dict[str, float]:
    tx = postgres_insert_tx_s(pg_url) if pg_url else sqlite_insert_tx_s()
    floors = {"sign": rs256_sign_s(), "verify": rs256_verify_s(), "tx": tx}
    print(
        f"{database:10} floors: sign {floors['sign'] * 1e6:.0f} us, verify {floors['verify'] * 1e6:.0f} us, "
        f"insert transaction {floors['tx'] * 1e6:.0f} us",
        flush=True,
    )
    return floors


def _intro(seconds: float, runs: int, floors_text: str) -> str:
    return (
        f"One `gatepass core` process (one uvicorn worker, httptools on uvloop), {CONNECTIONS} keep-alive "
        f"connections from a raw asyncio client on the same machine (client and server share its cores), "
        f"{seconds:g} s per measurement, median of {runs} runs. `verify` is the stateless path (no database); "
        "`create` is one insert and one RS256 signature; `refresh` walks each session's lineage, so every refresh "
        "promotes (one conditional write) and signs once. The core logs as it does by default (a line per "
        "login and refresh, to a file). Server CPU is the core process's own counter (user + system) per "
        'request; where it goes is in "Where a core request\'s time goes" below.\n\n'
        "Two floors, both measured in the same run: `/hello`, the same server's trivial route (the ratio column is "
        "the operation's rate over `/hello`'s), and the **composed floor**, the rate of doing the unavoidable work "
        "one request at a time: 1 / (t_hello + t_sign + t_tx) for create and refresh, 1 / (t_hello + t_verify) "
        "for verify, where t_hello = 1 / (the `/hello` rate) and t_sign, t_verify and t_tx (one insert "
        f"transaction on that database) are measured in-process in the same run ({floors_text}). On SQLite the "
        "core signs on a signing thread while its event loop serves the other requests in the app (RSA releases "
        "the GIL), so create and refresh can pass this floor, which is serial.\n\n"
        f"Machine: {machine_line()}. Shared and noisy: compare ratios, not absolute numbers."
    )


@contextmanager
def bench_databases(tmp_path: Path) -> Iterator[list[tuple[str, str]]]:
    """(label, database URL) for SQLite and, when it is running, PostgreSQL (a fresh schema, dropped after)."""
    databases = [("SQLite", f"sqlite:///{tmp_path / 'bench.db'}")]
    schema = None
    if postgres_available():
        schema, url = create_pg_schema()
        databases.append(("PostgreSQL", url))
    try:
        yield databases
    finally:
        if schema is not None:
            drop_pg_schema(schema)


def bench_arguments() -> argparse.Namespace:
    """``--seconds`` per measurement and ``--runs`` per median."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=3)
    return parser.parse_args()


def main() -> None:
    args = bench_arguments()
    rows: list[list[str]] = []
    floor_notes = []
    with tempfile.TemporaryDirectory() as tmp, bench_databases(Path(tmp)) as databases:
        for label, url in databases:
            floors = _floors(label, url if label == "PostgreSQL" else None)
            floor_notes.append(_floor_note(label, floors))
            rows += bench_backend(label, url, args.seconds, args.runs, Path(tmp), floors)
    header = [
        "backend",
        "operation",
        "req/s (median)",
        "p50 ms",
        "p99 ms",
        "p99 / p50",
        "server CPU ms per request",
        "ratio to /hello",
        "composed floor req/s",
        "ratio to composed floor",
    ]
    text = markdown_table(header, rows)
    intro = _intro(args.seconds, args.runs, "; ".join(floor_notes))
    write_section(
        Path(__file__).resolve().parents[1] / "BENCHMARKS.md", "Session core over HTTP", intro + "\n\n" + text
    )
    print(text)


def _floor_note(database: str, floors: dict[str, float]) -> str:
    return (
        f"{database}: t_sign {floors['sign'] * 1e6:.0f} µs, t_verify {floors['verify'] * 1e6:.0f} µs, "
        f"t_tx {floors['tx'] * 1e6:.0f} µs"
    )


if __name__ == "__main__":
    main()
