"""The ``gatepass`` command line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from gatepass.errors import GatepassError

CORE_EPILOG = """\
Every setting can also come from the environment (GATEPASS_HOST, GATEPASS_PORT, GATEPASS_DATABASE_URL,
GATEPASS_API_KEYS (comma-separated), GATEPASS_ACCESS_TOKEN_VALIDITY, GATEPASS_REFRESH_TOKEN_VALIDITY,
GATEPASS_ACCESS_TOKEN_DYNAMIC_SIGNING_KEY_UPDATE_INTERVAL, GATEPASS_CLEANUP_INTERVAL_SECONDS,
GATEPASS_LOG_LEVEL) or from a TOML file given by --config or GATEPASS_CONFIG, using the same names in lower case
(api_keys may be a list). Flags win over the environment, which wins over the file.

Database URLs: sqlite:///relative/path.db, sqlite:////absolute/path.db, or
postgresql://user:password@host:5432/dbname (several core processes may share one PostgreSQL database).
Apps created with PUT /recipe/multitenancy/app/v2 may override the three lifetimes in their coreConfig.
"""


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
    core.add_argument("--config", help="a TOML config file (also GATEPASS_CONFIG)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gatepass", description="gatepass: SuperTokens-compatible sessions.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_core_parser(subparsers)
    return parser


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def run_core(args: argparse.Namespace) -> int:
    from gatepass.core.server import serve
    from gatepass.core.settings import load_config_file, resolve_settings

    flags = {k: v for k, v in vars(args).items() if k not in ("command", "config")}
    config_path = args.config or os.environ.get("GATEPASS_CONFIG")
    file_values = load_config_file(config_path) if config_path else {}
    settings = resolve_settings(flags, os.environ, file_values)
    _configure_logging(settings.log_level)
    serve(settings)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "core":
            return run_core(args)
    except GatepassError as exc:
        print(f"gatepass {args.command}: {exc.message}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
