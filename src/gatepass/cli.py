"""The ``gatepass`` command line."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence

from gatepass.errors import GatepassError
from gatepass.logs import configure_logging

CORE_EPILOG = """\
Every setting can also come from the environment (GATEPASS_HOST, GATEPASS_PORT, GATEPASS_DATABASE_URL,
GATEPASS_API_KEYS (comma-separated), GATEPASS_ACCESS_TOKEN_VALIDITY, GATEPASS_REFRESH_TOKEN_VALIDITY,
GATEPASS_ACCESS_TOKEN_DYNAMIC_SIGNING_KEY_UPDATE_INTERVAL, GATEPASS_SESSION_ABSOLUTE_LIFETIME,
GATEPASS_ACCESS_TOKEN_VALIDITY_JITTER, GATEPASS_REFRESH_TOKEN_GRACE_PERIOD, GATEPASS_MAX_SESSIONS_PER_USER,
GATEPASS_SESSION_CAP_POLICY, GATEPASS_CLEANUP_INTERVAL_SECONDS,
GATEPASS_LOG_LEVEL, GATEPASS_WORKERS, GATEPASS_HEADER_TIMEOUT_SECONDS, GATEPASS_BODY_TIMEOUT_SECONDS,
GATEPASS_KEEP_ALIVE_TIMEOUT_SECONDS, GATEPASS_MAX_CONNECTIONS, GATEPASS_RATE_LIMIT_FAILED_API_KEYS,
GATEPASS_RATE_LIMIT_FAILED_REFRESHES, GATEPASS_RATE_LIMIT_FAILED_VERIFIES) or from a TOML file given by --config or
GATEPASS_CONFIG, using the same names in lower case (api_keys may be a list). Flags win over the environment,
which wins over the file. gatepass fauna-dev and gatepass demo read the four connection limits from the same
variables.

Database URLs: sqlite:///relative/path.db, sqlite:////absolute/path.db, or
postgresql://user:password@host:5432/dbname (several core processes may share one PostgreSQL database).
Apps created with PUT /recipe/multitenancy/app/v2 may override the lifetimes and session policies in their
coreConfig.
"""


def _add_session_policies(core: argparse.ArgumentParser) -> None:
    """gatepass's own session policies (not upstream's): absolute lifetime, jitter, grace window, session cap."""
    core.add_argument(
        "--session-absolute-lifetime",
        type=float,
        metavar="MINUTES",
        help="a session ends this long after login however active it is (default 0: only by inactivity)",
    )
    core.add_argument(
        "--access-token-validity-jitter",
        type=float,
        metavar="FRACTION",
        help="take up to this fraction off each access token's lifetime, at random (0 to 0.5; default 0)",
    )
    core.add_argument(
        "--refresh-token-grace-period",
        type=float,
        metavar="SECONDS",
        help="a just-superseded refresh token may be used once more this long (0 to 300; default 0: never)",
    )
    core.add_argument(
        "--max-sessions-per-user",
        type=int,
        metavar="N",
        help="the most live sessions one user may have (default 0: no cap)",
    )
    core.add_argument(
        "--session-cap-policy",
        choices=["revoke_oldest", "refuse"],
        help="what a login beyond --max-sessions-per-user does (default revoke_oldest)",
    )


def _add_core_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    core = subparsers.add_parser(
        "core",
        help="run the session core service (SuperTokens CDI 5.4)",
        description="Serve the gatepass session core over HTTP, speaking the SuperTokens Core Driver Interface 5.4.",
        epilog=CORE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    core.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    core.add_argument("--port", type=int, help="port to listen on (default 3567)")
    core.add_argument("--database-url", help="database URL (default sqlite:///./gatepass.db)")
    core.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help="require this API key (repeatable; at least 20 characters from [=a-zA-Z0-9-]); none means open",
    )
    core.add_argument(
        "--access-token-validity", type=float, metavar="SECONDS", help="access-token lifetime (default 3600)"
    )
    core.add_argument(
        "--refresh-token-validity",
        type=float,
        metavar="MINUTES",
        help="refresh-token (session) inactivity lifetime, in minutes (default 144000 = 100 days)",
    )
    _add_session_policies(core)
    core.add_argument(
        "--access-token-dynamic-signing-key-update-interval",
        type=float,
        metavar="HOURS",
        help="how often a new signing key is created, in hours (default 168)",
    )
    core.add_argument(
        "--cleanup-interval-seconds", type=float, help="how often expired sessions are deleted (default 3600)"
    )
    core.add_argument("--log-level", choices=["debug", "info", "warning", "error"], help="default info")
    core.add_argument(
        "--workers",
        type=int,
        help="core processes serving the port over the one database (default 1; up to 64; see README)",
    )
    _add_limit_arguments(core)
    rate_limits = (
        ("--rate-limit-failed-api-keys", "wrong API keys per client address (default 20/1)"),
        ("--rate-limit-failed-refreshes", "refresh tokens answered UNAUTHORISED per address (default 200/20)"),
        ("--rate-limit-failed-verifies", "access tokens answered TRY_REFRESH_TOKEN per address (default 200/20)"),
    )
    for flag, text in rate_limits:
        core.add_argument(flag, metavar="BURST/PER_SECOND|off", help=text + "; more get 429")
    core.add_argument("--config", help="a TOML config file (also GATEPASS_CONFIG)")


def _add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    # no type=: the settings module validates every source alike and names the flag in its error
    limits = (
        ("--header-timeout-seconds", "SECONDS", "time a client has to send request headers (default 10)"),
        ("--body-timeout-seconds", "SECONDS", "time a client has to send a request body (default 30)"),
        ("--keep-alive-timeout-seconds", "SECONDS", "idle time before a kept-alive connection closes (default 5)"),
        ("--max-connections", "N", "open connections at most; more are refused at once (default 500)"),
    )
    for flag, metavar, text in limits:
        parser.add_argument(flag, metavar=metavar, help=text)


FAUNA_EPILOG = """\
A development server for FQL v4, the protocol of the official faunadb drivers (Python 4.5.x, JavaScript 4.8.x):
keys, tokens, collections, documents with credentials, indexes, roles, and the FQL forms listed in the README. It is
not a database for production: one process, one lock, state in memory saved to --data after every write. To use a
self-hosted Fauna instead, point the same FaunaClient settings (scheme, domain, port, secret) at it.

Connection limits come from GATEPASS_HEADER_TIMEOUT_SECONDS, GATEPASS_BODY_TIMEOUT_SECONDS,
GATEPASS_KEEP_ALIVE_TIMEOUT_SECONDS and GATEPASS_MAX_CONNECTIONS, as for gatepass core.
"""


def _add_fauna_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fauna = subparsers.add_parser(
        "fauna-dev",
        help="run a local FQL v4 (Fauna-compatible) development server",
        description="Serve FQL v4 for the official faunadb drivers, locally.",
        epilog=FAUNA_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fauna.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    fauna.add_argument("--port", type=int, default=8443, help="port to listen on (default 8443)")
    fauna.add_argument("--data", help="a JSON file that keeps the data across restarts (default: memory only)")
    fauna.add_argument(
        "--admin-secret",
        help="the root key's secret (default: GATEPASS_FAUNA_ADMIN_SECRET, else 'secret')",
    )


def _add_demo_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = subparsers.add_parser(
        "demo",
        help="run the FaunaDB guide end to end: Fauna dev server, embedded core and a web app",
        description="Run the SuperTokens 'Using with FaunaDB' guide end to end, locally, in one process.",
        epilog="Needs the demo extra (scripts/setup demo). Connection limits: the GATEPASS_*_TIMEOUT_SECONDS and "
        "GATEPASS_MAX_CONNECTIONS variables of gatepass core.",
    )
    demo.add_argument("--host", default="127.0.0.1", help="address of the web app (default 127.0.0.1)")
    demo.add_argument("--port", type=int, default=8000, help="port of the web app (default 8000)")
    demo.add_argument("--fauna-port", type=int, default=8443, help="port of the Fauna dev server (default 8443)")
    demo.add_argument("--data-dir", default=".gatepass-demo", help="where sessions and Fauna data are kept")
    demo.add_argument(
        "--access-token-validity", type=float, default=30, metavar="SECONDS", help="access-token lifetime (default 30)"
    )
    demo.add_argument(
        "--faunadb-token-lag",
        type=float,
        default=5,
        metavar="SECONDS",
        help="how long a Fauna token outlives its access token (default 5)",
    )
    demo.add_argument("--assets", help="directory with supertokens.js and faunadb.js (default: frontend/build)")
    demo.add_argument(
        "--users",
        choices=("fauna", "external"),
        default="fauna",
        help="where users live: fauna (Fauna documents, a Fauna token per session; the default) or external (the "
        "demo's own SQLite table; Fauna trusts gatepass JWTs through an AccessProvider)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``gatepass`` argument parser, with its ``core``, ``fauna-dev`` and ``demo`` commands."""
    parser = argparse.ArgumentParser(prog="gatepass", description="gatepass: SuperTokens-compatible sessions.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_core_parser(subparsers)
    _add_fauna_parser(subparsers)
    _add_demo_parser(subparsers)
    return parser


def missing_extra_message(extra: str, exc: ImportError) -> str | None:
    """One line saying which extra to install when ``exc`` is a missing third-party module, else None (a broken
    gatepass import is a bug and keeps its traceback)."""
    top = (exc.name or "").split(".")[0]
    if not top or top == "gatepass":
        return None
    return (
        f"the {extra} extra is not installed (no module {top!r}): run scripts/setup {extra}, "
        f"or pip install -e '.[{extra}]' in a gatepass clone"
    )


def run_demo(args: argparse.Namespace) -> int:
    """``gatepass demo``: the FaunaDB guide end to end, until interrupted."""
    from pathlib import Path

    from gatepass.core.settings import limits_from_env
    from gatepass.errors import ConfigurationError

    try:
        from gatepass.demo.runner import run_demo as run
    except ImportError as exc:
        message = missing_extra_message("demo", exc)
        if message is None:
            raise
        raise ConfigurationError(message) from exc

    configure_logging("warning")
    if not 0 < args.access_token_validity <= 86_400:
        raise ConfigurationError("--access-token-validity must be between 1 and 86400 seconds")
    if not 0 <= args.faunadb_token_lag <= 3_600:
        raise ConfigurationError("--faunadb-token-lag must be between 0 and 3600 seconds")
    run(
        host=args.host,
        port=args.port,
        fauna_port=args.fauna_port,
        data_dir=Path(args.data_dir),
        access_token_validity=args.access_token_validity,
        faunadb_token_lag_ms=round(args.faunadb_token_lag * 1000),
        assets=Path(args.assets) if args.assets else None,
        limits=limits_from_env(os.environ),
        users=args.users,
    )
    return 0


def run_fauna_dev(args: argparse.Namespace) -> int:
    """``gatepass fauna-dev``: serve FQL v4 until interrupted."""
    from pathlib import Path

    import uvicorn

    from gatepass.core.server import bind_listener, server_config
    from gatepass.core.settings import limits_from_env
    from gatepass.errors import ConfigurationError
    from gatepass.faunadev.server import open_server

    secret = args.admin_secret or os.environ.get("GATEPASS_FAUNA_ADMIN_SECRET") or "secret"
    if not 0 <= args.port <= 65535:
        raise ConfigurationError("port must be between 0 and 65535")
    limits = limits_from_env(os.environ)
    configure_logging("info")
    listener = bind_listener(args.host, args.port, "--port")
    try:
        server = open_server(Path(args.data) if args.data else None, secret)
    except (OSError, ValueError) as exc:
        listener.close()
        raise ConfigurationError(f"cannot use data file {args.data}: {exc}") from exc
    where = args.data or "memory only"
    logging.getLogger("gatepass.faunadev").info(
        "gatepass fauna-dev listening on http://%s:%d (data: %s)", args.host, listener.getsockname()[1], where
    )
    for sig in (signal.SIGINT, signal.SIGTERM):  # see core/server.py: let uvicorn re-raise into a no-op
        signal.signal(sig, lambda *_: None)
    try:
        uvicorn.Server(server_config(server.app, limits)).run(sockets=[listener])
    finally:
        listener.close()
    logging.getLogger("gatepass.faunadev").info("gatepass fauna-dev stopped")
    return 0


def run_core(args: argparse.Namespace) -> int:
    """``gatepass core``: resolve the settings (flags, then environment, then config file) and serve the core."""
    from gatepass.core.server import serve
    from gatepass.core.settings import load_config_file, resolve_settings

    flags = {k: v for k, v in vars(args).items() if k not in ("command", "config")}
    config_path = args.config or os.environ.get("GATEPASS_CONFIG")
    file_values = load_config_file(config_path) if config_path else {}
    settings = resolve_settings(flags, os.environ, file_values)
    configure_logging(settings.log_level)
    serve(settings)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The entry point: run one command; a ``GatepassError`` becomes one line on stderr and exit status 2."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "core":
            return run_core(args)
        if args.command == "fauna-dev":
            return run_fauna_dev(args)
        if args.command == "demo":
            return run_demo(args)
    except GatepassError as exc:
        print(f"gatepass {args.command}: {exc.message}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
