"""Benchmark: verifying one session's access token in-process, four ways, in one run:
- gatepass's SDK (``syncio.get_session_without_request_response``), with the token remembered from its
  first check (what every request after a user's first one sees) and with the memo emptied before each verify
  (a token seen for the first time: the full RSA check),
- the official supertokens-python 0.31.4 SDK (``get_session_without_request_response``) on the same core and token,
- the floor: the RS256 signature check alone (``cryptography``), with the key already parsed.
Writes the "SDK session verification" section of BENCHMARKS.md. Run: ``.venv/bin/python bench/sdk_verify.py``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("SUPERTOKENS_ENV", "testing")

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding  # noqa: E402

from bench.core_http import machine_line  # noqa: E402
from bench.report import write_section  # noqa: E402
from gatepass.recipe import session  # noqa: E402
from gatepass.recipe.app_info import AppInfo  # noqa: E402
from gatepass.recipe.instance import create  # noqa: E402
from gatepass.recipe.session import syncio  # noqa: E402
from gatepass.recipe.session.core_client import RemoteCore  # noqa: E402
from gatepass.tokens import access_token  # noqa: E402
from tests.helpers import start_core  # noqa: E402

ITERATIONS = 3000
RUNS = 5


def _rate(fn: Callable[[], object], iterations: int = ITERATIONS) -> float:
    for _ in range(50):
        fn()
    started = time.perf_counter()
    for _ in range(iterations):
        fn()
    return iterations / (time.perf_counter() - started)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        core = start_core(f"sqlite:///{Path(tmp) / 'bench.db'}", Path(tmp) / "core.log", ["--log-level", "warning"])
        try:
            info = AppInfo("bench", "http://localhost:8000", "http://localhost:3000")
            gp = create(app_info=info, core=RemoteCore(core.url), framework="fastapi", recipe_list=[session.init()])
            token = syncio.create_new_session_without_request_response(
                "public", "bench-user", gatepass=gp
            ).get_access_token()

            def ours() -> object:
                return syncio.get_session_without_request_response(token, gatepass=gp)

            ours()  # fills the key cache

            def ours_first_sight() -> object:
                access_token._CHECKED.clear()
                return ours()

            from supertokens_python import InputAppInfo, SupertokensConfig, init
            from supertokens_python.recipe import session as st_session
            from supertokens_python.recipe.session.asyncio import get_session_without_request_response

            init(
                app_info=InputAppInfo(
                    app_name="bench", api_domain="http://localhost:8000", website_domain="http://localhost:3000"
                ),
                supertokens_config=SupertokensConfig(connection_uri=core.url),
                framework="fastapi",
                recipe_list=[st_session.init()],
                mode="asgi",
                telemetry=False,
            )
            loop = asyncio.new_event_loop()

            header_b64, payload_b64, signature_b64 = token.split(".")
            signature = base64.urlsafe_b64decode(signature_b64 + "==")
            signing_input = f"{header_b64}.{payload_b64}".encode()
            kid = json.loads(base64.urlsafe_b64decode(header_b64 + "=="))["kid"]
            public_key = gp.session.jwks.key(kid)
            assert public_key is not None

            def floor() -> object:
                public_key.public_key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
                return None

            async def official_loop(n: int) -> None:
                for _ in range(n):
                    await get_session_without_request_response(token)

            def official_batch() -> float:
                loop.run_until_complete(official_loop(50))
                started = time.perf_counter()
                loop.run_until_complete(official_loop(ITERATIONS))
                return ITERATIONS / (time.perf_counter() - started)

            results: dict[str, list[float]] = {
                "floor": [],
                "gatepass": [],
                "gatepass first sight": [],
                "supertokens-python": [],
            }
            for _ in range(RUNS):
                results["floor"].append(_rate(floor))
                results["gatepass"].append(_rate(ours))
                results["gatepass first sight"].append(_rate(ours_first_sight))
                results["supertokens-python"].append(official_batch())
            loop.close()
            gp.close()
        finally:
            core.stop()
    medians = {name: statistics.median(rates) for name, rates in results.items()}
    rows = [
        ["floor: RS256 signature check alone", medians["floor"], "the unavoidable work"],
        [
            "gatepass SDK",
            medians["gatepass"],
            "a token checked before: its strict parse and signature from the memo; times and claims checked",
        ],
        [
            "gatepass SDK, token seen for the first time",
            medians["gatepass first sight"],
            "strict parse, RSA signature check, claims; no I/O",
        ],
        ["supertokens-python 0.31.4", medians["supertokens-python"], "official SDK, async API, same token and core"],
    ]
    lines = [
        "| verifier | verifies/s (median) | µs per verify | ratio to floor | ratio to supertokens-python | notes |"
    ]
    lines.append("| --- | --- | --- | --- | --- | --- |")
    for name, rate, note in rows:
        lines.append(
            f"| {name} | {rate:,.0f} | {1e6 / rate:.1f} | {rate / medians['floor']:.2f} | "
            f"{rate / medians['supertokens-python']:.2f} | {note} |"
        )
    intro = (
        f"One access token from one `gatepass core`, verified {ITERATIONS} times per run, median of {RUNS} runs, "
        "single thread, keys already cached (no network or database on any row). The official SDK is driven through "
        "its async API on one event loop. A browser sends the same access token with every request until its next "
        "refresh, so after a user's first request gatepass's SDK finds the token in its memo of checked tokens "
        "(`tokens/access_token.py`: keyed by the exact token text and the key record that accepted it, holding the "
        "token's strict parse; bounded, successes only). It can beat the floor because it skips the RSA check that "
        "the floor is made of. The first-time row empties the memo before every verify, so it pays the full strict "
        "parse and RSA check.\n\n"
        f"Machine: {machine_line()}. Shared and noisy: compare ratios, not absolute numbers."
    )
    table = "\n".join(lines)
    write_section(
        Path(__file__).resolve().parents[1] / "BENCHMARKS.md", "SDK session verification", intro + "\n\n" + table
    )
    print(table)


if __name__ == "__main__":
    main()
