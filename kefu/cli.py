"""`kefu` command line: `up`, `build`, `serve`, plus the commands each service registers
(`intent …`, `catalog …`, `index …`, `retrieval …`, `llm …`, `agent …`)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from kefu import topology

# tests/deploy reads the table through here; kefu.topology is where it lives.
from kefu.topology import APPS as APPS
from kefu.topology import PORT_OFFSETS as PORT_OFFSETS

# Commands of kefu itself (the services' come from the topology table).
CORE_CLIS = ("kefu.db_cli",)


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default=argparse.SUPPRESS,
                        help="data dir (default: $KEFU_DATA_DIR, else ./.kefu)")


def apply_data_dir(args: argparse.Namespace) -> None:
    """--data-dir wins over KEFU_DATA_DIR; exported so child processes and Settings agree."""
    data_dir = getattr(args, "data_dir", None)
    if data_dir:
        os.environ["KEFU_DATA_DIR"] = str(Path(data_dir).resolve())
    from kefu.settings import get_settings

    get_settings.cache_clear()
    get_settings().data_dir.mkdir(parents=True, exist_ok=True)


def _cmd_up(args: argparse.Namespace) -> int:
    from kefu.supervisor import run_up

    return run_up(port=args.port, build=not args.no_build, quick=args.quick)


def _cmd_build(args: argparse.Namespace) -> int:
    from kefu.bootstrap import build_all

    build_all(only=args.only, quick=args.quick, force=args.force)
    return 0


def _cmd_internal_token(args: argparse.Namespace) -> int:
    from kefu.service_auth import ensure_token_file, token_path
    from kefu.settings import get_settings

    data_dir = get_settings().data_dir
    ensure_token_file(data_dir)
    print(token_path(data_dir).resolve())  # the path, never the token
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from kefu import service_auth, tracing
    from kefu.http_protocol import JSONErrorHTTPProtocol
    from kefu.logging import configure_logging
    from kefu.settings import get_settings

    settings = get_settings()
    configure_logging(args.service, settings.log_level)
    tracing.configure_from_settings(args.service, settings)
    if (args.service != "gateway" and not service_auth.is_loopback(args.host)
            and not service_auth.internal_token(settings)):
        print(f"error: refusing to serve {args.service} on {args.host} without an internal token: set "
              "KEFU_INTERNAL_TOKEN (the same value for every service) or run `kefu internal-token` "
              "in a data dir the services share", file=sys.stderr)
        return 2
    svc = topology.service(args.service)
    port = args.port if args.port is not None else svc.port()
    # proxy_headers=False: uvicorn would otherwise believe X-Forwarded-For from any loopback peer;
    # the gateway reads it itself, only from KEFU_TRUSTED_PROXIES (gateway/forwarded.py).
    uvicorn.run(svc.app, factory=True, host=args.host, port=port, log_config=None, proxy_headers=False,
                access_log=False, timeout_graceful_shutdown=5, http=JSONErrorHTTPProtocol)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kefu", description=__doc__)
    add_data_dir(parser)
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start every service (and Redis if none answers)")
    add_data_dir(up)
    last = max(topology.PORT_OFFSETS.values())
    up.add_argument("--port", type=int, default=topology.BASE_PORT,
                    help=f"gateway port; services use port+1..+{last}")
    up.add_argument("--no-build", action="store_true", help="skip the first-run build of models/indexes")
    up.add_argument("--quick", action="store_true", help="quick first-run build (short LLM training)")
    up.set_defaults(func=_cmd_up)

    build = sub.add_parser("build", help="build default data, models and indexes that are missing")
    add_data_dir(build)
    build.add_argument("--only", choices=topology.BUILD_ORDER, action="append")
    build.add_argument("--quick", action="store_true", help="short training budgets (tests, CI)")
    build.add_argument("--force", action="store_true", help="rebuild even if present")
    build.set_defaults(func=_cmd_build)

    serve = sub.add_parser("serve", help="run one service alone in the foreground")
    add_data_dir(serve)
    serve.add_argument("service", choices=sorted(topology.START_ORDER))
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--host", default="127.0.0.1",
                       help="bind address (internal services need KEFU_INTERNAL_TOKEN off loopback)")
    serve.set_defaults(func=_cmd_serve)

    token = sub.add_parser("internal-token",
                           help="create the data dir's internal service token if missing; print its path")
    add_data_dir(token)
    token.set_defaults(func=_cmd_internal_token)

    for mod_name in (*CORE_CLIS, *(svc.cli_module for svc in topology.SERVICES)):  # each adds its commands
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name == mod_name:
                continue  # that service has no commands yet
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    apply_data_dir(args)
    rc = args.func(args)
    sys.exit(rc or 0)


if __name__ == "__main__":
    main()
