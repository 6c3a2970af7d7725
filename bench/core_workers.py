"""Benchmark: what a second core process adds (``gatepass core --workers 2`` against one process), for create and
refresh over HTTP on SQLite and PostgreSQL, with the server's CPU per request from the processes' own counters.
Writes the "Session core with several processes" section of BENCHMARKS.md.
Run: ``.venv/bin/python bench/core_workers.py [--seconds 2] [--runs 3]``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.core_http import CONNECTIONS, bench_arguments, bench_databases, machine_line, median_run  # noqa: E402
from bench.report import markdown_table, write_section  # noqa: E402
from tests.helpers import start_core  # noqa: E402

OPERATIONS = ("create", "refresh")
PROCESSES = (1, 2)


def bench_backend(label: str, database_url: str, seconds: float, runs: int, log_dir: Path) -> list[list[str]]:
    """Rows for one backend: each operation with one and with two processes."""
    measured: dict[tuple[str, int], dict[str, float]] = {}
    for processes in PROCESSES:
        args = ["--workers", str(processes)]  # default logging: a line per login and refresh
        core = start_core(database_url, log_dir / f"{label}-{processes}.log", args)
        try:
            for operation in OPERATIONS:
                measured[operation, processes] = median_run(core, operation, seconds, runs)
                rate = measured[operation, processes]["rate"]
                print(f"{label:10} {operation:8} {processes} process(es) {rate:9.0f} req/s", flush=True)
        finally:
            core.stop()
    rows = []
    for operation in OPERATIONS:
        one = measured[operation, 1]
        for processes in PROCESSES:
            m = measured[operation, processes]
            rows.append(
                [
                    label,
                    operation,
                    str(processes),
                    f"{m['rate']:,.0f}",
                    f"{m['p99'] / m['p50']:.1f}",
                    f"{m['cpu']:.3f}",
                    f"{m['rate'] / one['rate']:.2f}",
                    f"{m['cpu'] / one['cpu']:.2f}",
                ]
            )
    return rows


def main() -> None:
    args = bench_arguments()
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory() as tmp, bench_databases(Path(tmp)) as databases:
        for label, url in databases:
            rows += bench_backend(label, url, args.seconds, args.runs, Path(tmp))
    header = [
        "backend",
        "operation",
        "processes",
        "req/s (median)",
        "p99 / p50",
        "server CPU ms per request",
        "rate vs 1 process",
        "CPU per request vs 1 process",
    ]
    text = markdown_table(header, rows)
    intro = (
        f"`gatepass core --workers 2` against one process on the same database, {CONNECTIONS} keep-alive "
        f"connections from a raw asyncio client on the same machine, {args.seconds:g} s per measurement, median of "
        f"{args.runs} runs, default logging (a line per login and refresh). Server CPU is the sum of the core's "
        "processes' own counters (user + system) per "
        "request. The load client shares the machine's cores with the server, so on a small machine a second "
        "process can add little throughput; the column to read is CPU per request, which should stay flat (no "
        "operation holds more than one connection or one transaction, so processes do not wait on each other "
        "beyond the database's own serialisation).\n\n"
        f"Machine: {machine_line()}. Shared and noisy: compare ratios, not absolute numbers."
    )
    write_section(
        Path(__file__).resolve().parents[1] / "BENCHMARKS.md",
        "Session core with several processes",
        intro + "\n\n" + text,
    )
    print(text)


if __name__ == "__main__":
    main()
