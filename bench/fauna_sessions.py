"""Benchmark: session create and refresh with and without the FaunaDB integration, in one run, against
``gatepass fauna-dev`` on this machine. Counts the Fauna queries each operation sends (the integration's promise is
one per create and one per refresh) and writes the "FaunaDB integration" section of BENCHMARKS.md.
Run: ``.venv/bin/python bench/fauna_sessions.py``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.core_http import machine_line  # noqa: E402
from bench.report import write_section  # noqa: E402
from gatepass.faunadev.server import open_server  # noqa: E402
from gatepass.recipe import session  # noqa: E402
from gatepass.recipe.app_info import AppInfo  # noqa: E402
from gatepass.recipe.instance import Gatepass, create  # noqa: E402
from gatepass.recipe.session import faunadb, syncio  # noqa: E402
from gatepass.recipe.session.core_client import EmbeddedCore  # noqa: E402
from gatepass.recipe.session.faunadb.fauna_calls import FaunaClient, q  # noqa: E402
from tests.helpers import free_port, serve_in_thread  # noqa: E402

OPERATIONS = 200
RUNS = 3


class QueryCounter:
    """ASGI wrapper counting FQL queries (POST /) reaching the Fauna server."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.count = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/":
            self.count += 1
        await self.app(scope, receive, send)


def _gatepass(tmp: Path, name: str, recipe: Any) -> Gatepass:
    info = AppInfo("bench", "http://localhost:8000", "http://localhost:3000")
    core = EmbeddedCore(f"sqlite:///{tmp / (name + '.db')}")
    return create(app_info=info, core=core, framework="fastapi", recipe_list=[recipe])


def _measure(gp: Gatepass, user_id: str, counter: QueryCounter) -> dict[str, tuple[float, float]]:
    def timed(fn: Callable[[], Any]) -> tuple[list[float], float]:
        before = counter.count
        samples = []
        for _ in range(OPERATIONS):
            started = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - started) * 1000)
        return samples, (counter.count - before) / OPERATIONS

    results: dict[str, tuple[float, float]] = {}
    created: list[Any] = []
    samples, queries = timed(
        lambda: created.append(syncio.create_new_session_without_request_response("public", user_id, gatepass=gp))
    )
    results["create"] = (statistics.median(samples), queries)
    tokens = iter([c.get_all_session_tokens_dangerously()["refreshToken"] for c in created])
    samples, queries = timed(lambda: syncio.refresh_session_without_request_response(next(tokens), gatepass=gp))
    results["refresh"] = (statistics.median(samples), queries)
    return results


def main() -> None:
    rows: dict[str, dict[str, list[tuple[float, float]]]] = {"without Fauna": {}, "with Fauna": {}}
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        counter = QueryCounter(open_server(None, "secret").app)
        port = free_port()
        with serve_in_thread(counter, port):
            admin = FaunaClient(secret="secret", scheme="http", domain="127.0.0.1", port=port)
            admin.query(q.create_collection({"name": "users"}))
            user_id = admin.query(q.create(q.collection("users"), {"data": {}}))["ref"].id()
            server_key = admin.query(q.create_key({"role": "server"}))["secret"]
            fauna_client = FaunaClient(secret=server_key, scheme="http", domain="127.0.0.1", port=port)
            plain = _gatepass(tmp, "plain", session.init())
            with_fauna = _gatepass(
                tmp, "fauna", faunadb.init(faunadb_client=fauna_client, user_collection_name="users")
            )
            syncio.create_new_session_without_request_response("public", user_id, gatepass=with_fauna)  # set-up check
            for _ in range(RUNS):
                for label, gp in (("without Fauna", plain), ("with Fauna", with_fauna)):
                    for operation, result in _measure(gp, user_id, counter).items():
                        rows[label].setdefault(operation, []).append(result)
            plain.close()
            with_fauna.close()
            admin.session.close()
            fauna_client.session.close()
    lines = [
        "| operation | without Fauna: ms (median) | with Fauna: ms (median) | ratio | Fauna queries per operation |"
    ]
    lines.append("| --- | --- | --- | --- | --- |")
    for operation in ("create", "refresh"):
        base = statistics.median(r[0] for r in rows["without Fauna"][operation])
        fauna = statistics.median(r[0] for r in rows["with Fauna"][operation])
        queries = statistics.median(r[1] for r in rows["with Fauna"][operation])
        lines.append(f"| {operation} | {base:.2f} | {fauna:.2f} | {fauna / base:.2f} | {queries:g} |")
    intro = (
        f"In-process SDK calls (`syncio`, embedded core on SQLite) against `gatepass fauna-dev` on loopback, "
        f"{OPERATIONS} operations per run, median of {RUNS} runs; the query count is measured at the Fauna server. "
        "With Fauna, create and refresh each add exactly one Fauna round trip (the mint, or the mint-and-delete "
        "transaction) plus the session-data update in the core.\n\n"
        f"Machine: {machine_line()}. Shared and noisy: compare ratios, not absolute numbers."
    )
    table = "\n".join(lines)
    write_section(Path(__file__).resolve().parents[1] / "BENCHMARKS.md", "FaunaDB integration", intro + "\n\n" + table)
    print(table)


if __name__ == "__main__":
    main()
