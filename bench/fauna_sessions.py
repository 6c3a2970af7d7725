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


class CoreCallCounter:
    """Counts the core calls a recipe makes (its ``core_sync``, which every sync flow step goes through)."""

    def __init__(self, gp: Gatepass) -> None:
        self.count = 0
        original = gp.session.core_sync

        def counted(call: Any) -> Any:
            self.count += 1
            return original(call)

        gp.session.core_sync = counted  # type: ignore[method-assign]


AUDIENCE = "https://db.fauna.com/db/ybenchmarkaudience"  # no Fauna query checks it: Fauna would, at use
SEAL_KEY = b"bench-seal-key-of-32-bytes-or-more!"
Measured = tuple[float, float, float, int]  # median ms, Fauna queries and core calls per operation, token bytes


def _measure(gp: Gatepass, user_id: str, counter: QueryCounter, core: CoreCallCounter) -> dict[str, Measured]:
    def timed(fn: Callable[[], Any]) -> tuple[list[float], float, float]:
        before, core_before = counter.count, core.count
        samples = []
        for _ in range(OPERATIONS):
            started = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - started) * 1000)
        return samples, (counter.count - before) / OPERATIONS, (core.count - core_before) / OPERATIONS

    results: dict[str, Measured] = {}
    created: list[Any] = []
    samples, queries, calls = timed(
        lambda: created.append(syncio.create_new_session_without_request_response("public", user_id, gatepass=gp))
    )
    results["create"] = (statistics.median(samples), queries, calls, len(created[0].get_access_token()))
    tokens = iter([c.get_all_session_tokens_dangerously()["refreshToken"] for c in created])
    refreshed: list[Any] = []
    samples, queries, calls = timed(
        lambda: refreshed.append(syncio.refresh_session_without_request_response(next(tokens), gatepass=gp))
    )
    results["refresh"] = (statistics.median(samples), queries, calls, len(refreshed[0].get_access_token()))
    if any("faunadb" in str(k) for k in refreshed[0].get_access_token_payload()):
        sessions = iter(refreshed)
        samples, queries, calls = timed(lambda: next(sessions).get_faunadb_token())
        results["get_faunadb_token"] = (statistics.median(samples), queries, calls, 0)
    return results


CONFIGURATIONS = (
    "without Fauna",
    "with Fauna (backend-only)",
    "with Fauna (frontend mode)",
    "with a Fauna JWT (backend-only)",
    "with a Fauna JWT (frontend mode)",
)


def _table(rows: dict[str, dict[str, list[Measured]]]) -> str:
    header = (
        "| operation | configuration | ms (median) | vs without Fauna | Fauna queries | core calls | access token |"
    )
    lines = [header, "| --- | --- | --- | --- | --- | --- | --- |"]
    for operation in ("create", "refresh", "get_faunadb_token"):
        base_rows = rows["without Fauna"].get(operation)
        base = statistics.median(r[0] for r in base_rows) if base_rows else None
        for label in CONFIGURATIONS:
            measured = rows[label].get(operation)
            if not measured:
                continue
            ms = statistics.median(r[0] for r in measured)
            queries = statistics.median(r[1] for r in measured)
            calls = statistics.median(r[2] for r in measured)
            ratio = f"{ms / base:.2f}" if base else "-"
            size = f"{max(r[3] for r in measured):,} B" if operation != "get_faunadb_token" else "-"
            lines.append(f"| {operation} | {label} | {ms:.2f} | {ratio} | {queries:g} | {calls:g} | {size} |")
    return "\n".join(lines)


def main() -> None:
    rows: dict[str, dict[str, list[Measured]]] = {label: {} for label in CONFIGURATIONS}
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
            apps = {
                "without Fauna": _gatepass(tmp, "plain", session.init()),
                "with Fauna (backend-only)": _gatepass(
                    tmp, "fauna", faunadb.init(faunadb_client=fauna_client, user_collection_name="users")
                ),
                "with Fauna (frontend mode)": _gatepass(
                    tmp,
                    "frontend",
                    faunadb.init(
                        faunadb_client=fauna_client,
                        user_collection_name="users",
                        access_faunadb_token_from_frontend=True,
                    ),
                ),
                "with a Fauna JWT (backend-only)": _gatepass(
                    tmp, "jwt", faunadb.init_with_access_provider(audience=AUDIENCE, faunadb_token_seal_key=SEAL_KEY)
                ),
                "with a Fauna JWT (frontend mode)": _gatepass(
                    tmp,
                    "jwt-frontend",
                    faunadb.init_with_access_provider(audience=AUDIENCE, access_faunadb_token_from_frontend=True),
                ),
            }
            cores = {label: CoreCallCounter(gp) for label, gp in apps.items()}
            for gp in apps.values():
                syncio.create_new_session_without_request_response("public", user_id, gatepass=gp)  # set-up check
            for _ in range(RUNS):
                for label, gp in apps.items():
                    for operation, result in _measure(gp, user_id, counter, cores[label]).items():
                        rows[label].setdefault(operation, []).append(result)
            for gp in apps.values():
                gp.close()
            admin.session.close()
            fauna_client.session.close()
    intro = (
        f"In-process SDK calls (`syncio`, embedded core on SQLite) against `gatepass fauna-dev` on loopback, "
        f"{OPERATIONS} operations per run, median of {RUNS} runs; Fauna queries are counted at the Fauna server, "
        "core calls at the SDK. With Fauna, create and refresh each add one Fauna round trip (the mint, or the "
        "mint-and-delete transaction) and one core call (the regenerate that puts the token in the payload); "
        "`get_faunadb_token()` reads the token from the verified access token (sealed in backend-only mode) and "
        "calls nothing. With a Fauna JWT (`faunadb.init_with_access_provider`), create and refresh make no Fauna "
        "round trip at all and one more core call (`POST /recipe/jwt`, which signs the JWT) than with a Fauna token; "
        "the JWT makes the access token (the `sAccessToken` cookie in cookie mode) larger, still far under the "
        "browser's 4 KiB per cookie.\n\n"
        f"Machine: {machine_line()}. Shared and noisy: compare ratios, not absolute numbers."
    )
    table = _table(rows)
    write_section(Path(__file__).resolve().parents[1] / "BENCHMARKS.md", "FaunaDB integration", intro + "\n\n" + table)
    print(table)


if __name__ == "__main__":
    main()
