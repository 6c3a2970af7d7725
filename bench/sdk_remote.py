"""Benchmark: session creation and refresh through an SDK's async API with a remote core, gatepass's SDK against
the official supertokens-python 0.31.4, both on one `gatepass core` process (SQLite), in one run.

Each measurement runs ``CONCURRENCY`` tasks on one event loop for ``OPERATIONS`` operations; a refresh rotates a
token made by the same SDK beforehand (each token once). Medians of ``RUNS`` runs, taken in turns. The core's CPU
time per operation (from its process counters) shows what the core spent; the rest of the wall time is the SDK and
the loopback. Writes the "SDK calls to a remote core" section of BENCHMARKS.md. Run:
``.venv/bin/python bench/sdk_remote.py``.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("SUPERTOKENS_ENV", "testing")

from bench.core_http import machine_line  # noqa: E402
from bench.report import write_section  # noqa: E402
from gatepass.recipe import session  # noqa: E402
from gatepass.recipe.app_info import AppInfo  # noqa: E402
from gatepass.recipe.instance import create  # noqa: E402
from gatepass.recipe.session import asyncio as gp_async  # noqa: E402
from gatepass.recipe.session.core_client import RemoteCore  # noqa: E402
from tests.helpers import start_core  # noqa: E402

CONCURRENCY = 16
OPERATIONS = 600
RUNS = 3
Operation = Callable[[int], Awaitable[object]]


def _cpu_s(pid: int) -> float:
    """The process's user + system CPU seconds (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _measure(operation: Operation, pid: int) -> tuple[float, float]:
    """Operations per second and the core's CPU milliseconds per operation."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(OPERATIONS):
        queue.put_nowait(index)

    async def worker() -> None:
        while not queue.empty():
            await operation(queue.get_nowait())

    cpu, started = _cpu_s(pid), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    return OPERATIONS / elapsed, (_cpu_s(pid) - cpu) * 1000 / OPERATIONS


def _official(core_url: str) -> tuple[Operation, Callable[[int], Awaitable[Operation]]]:
    from supertokens_python import InputAppInfo, SupertokensConfig, init
    from supertokens_python.recipe import session as st_session
    from supertokens_python.recipe.session import asyncio as st_async
    from supertokens_python.types import RecipeUserId

    init(
        app_info=InputAppInfo(
            app_name="bench", api_domain="http://localhost:8000", website_domain="http://localhost:3000"
        ),
        supertokens_config=SupertokensConfig(connection_uri=core_url),
        framework="fastapi",
        recipe_list=[st_session.init()],
        mode="asgi",
        telemetry=False,
    )

    async def create_one(index: int) -> object:
        return await st_async.create_new_session_without_request_response("public", RecipeUserId(f"st-{index}"))

    async def refreshes(count: int) -> Operation:
        made = [await create_one(i) for i in range(count)]
        tokens = [s.get_all_session_tokens_dangerously()["refreshToken"] for s in made]  # type: ignore[attr-defined]

        async def refresh_one(index: int) -> object:
            return await st_async.refresh_session_without_request_response(tokens[index], True)

        return refresh_one

    return create_one, refreshes


def _ours(core_url: str) -> tuple[Operation, Callable[[int], Awaitable[Operation]]]:
    info = AppInfo("bench", "http://localhost:8000", "http://localhost:3000")
    gp = create(app_info=info, core=RemoteCore(core_url), framework="fastapi", recipe_list=[session.init()])

    async def create_one(index: int) -> object:
        return await gp_async.create_new_session_without_request_response("public", f"gp-{index}", gatepass=gp)

    async def refreshes(count: int) -> Operation:
        made = [await create_one(i) for i in range(count)]
        tokens = [s.get_all_session_tokens_dangerously()["refreshToken"] for s in made]

        async def refresh_one(index: int) -> object:
            return await gp_async.refresh_session_without_request_response(tokens[index], True, gatepass=gp)

        return refresh_one

    return create_one, refreshes


async def _run(core_url: str, pid: int) -> dict[tuple[str, str], list[tuple[float, float]]]:
    sdks = {"gatepass SDK": _ours(core_url), "supertokens-python 0.31.4": _official(core_url)}
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(RUNS):
        for name, (create_one, refreshes) in sdks.items():
            results.setdefault((name, "create"), []).append(await _measure(create_one, pid))
            refresh_one = await refreshes(OPERATIONS)
            results.setdefault((name, "refresh"), []).append(await _measure(refresh_one, pid))
    return results


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        core = start_core(f"sqlite:///{Path(tmp) / 'bench.db'}", Path(tmp) / "core.log", ["--log-level", "warning"])
        try:
            results = asyncio.run(_run(core.url, core.process.pid))
        finally:
            core.stop()
    lines = ["| operation | SDK | ops/s (median) | core CPU ms per op | ratio to supertokens-python |"]
    lines.append("| --- | --- | --- | --- | --- |")
    for operation in ("create", "refresh"):
        peer = statistics.median(rate for rate, _ in results[("supertokens-python 0.31.4", operation)])
        for sdk in ("gatepass SDK", "supertokens-python 0.31.4"):
            runs = results[(sdk, operation)]
            rate = statistics.median(r for r, _ in runs)
            cpu = statistics.median(c for _, c in runs)
            lines.append(f"| {operation} | {sdk} | {rate:,.0f} | {cpu:.2f} | {rate / peer:.2f} |")
    intro = (
        f"Both SDKs' async API (`create_new_session_without_request_response`, "
        f"`refresh_session_without_request_response`) against one `gatepass core` process on SQLite over loopback, "
        f"{CONCURRENCY} tasks on one event loop, {OPERATIONS} operations per measurement, median of {RUNS} runs "
        "taken in turns. gatepass's async core calls use one pooled async HTTP client per event loop (no worker "
        "thread; throughput about that of the pooled sync client in a worker thread it replaces, measured A/B on "
        "this machine, without its cap of 40 calls in flight). supertokens-python opens a new HTTP client, and so a "
        "new connection, for every core call: that, not the core, is most of its time per operation. Core CPU is "
        "the core process's own counter per operation.\n\n"
        f"Machine: {machine_line()}. Shared and noisy: compare ratios, not absolute numbers."
    )
    table = "\n".join(lines)
    write_section(
        Path(__file__).resolve().parents[1] / "BENCHMARKS.md", "SDK calls to a remote core", intro + "\n\n" + table
    )
    print(table)


if __name__ == "__main__":
    main()
