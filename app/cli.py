"""The `oipserve` command: `oipserve serve [MODEL_REPOSITORY] ...`. Nothing runs at import."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app import __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oipserve", description="Open Inference Protocol server")
    parser.add_argument("--version", action="version", version=f"oipserve {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="serve a model repository over REST and gRPC",
        description="Serve every model of MODEL_REPOSITORY over REST and gRPC. Each option "
        "also reads OIPSERVE_<NAME> from the environment (e.g. OIPSERVE_HTTP_PORT).",
        argument_default=argparse.SUPPRESS,
    )
    serve.add_argument(
        "model_repository",
        nargs="?",
        type=Path,
        default=None,
        help="folder of model folders (default ./models)",
    )
    serve.add_argument("--host", help="address to listen on (default 0.0.0.0)")
    serve.add_argument("--http-port", type=int, help="REST port (default 8080; 0 picks one)")
    serve.add_argument("--grpc-port", type=int, help="gRPC port (default 8081; 0 picks one)")
    serve.add_argument(
        "--http-max-body-mb",
        type=float,
        help="largest REST request body in MB; larger ones are 413s (default 64)",
    )
    serve.add_argument(
        "--grpc-max-message-mb",
        type=float,
        help="largest gRPC message in MB, either way; larger ones are RESOURCE_EXHAUSTED "
        "(default 64)",
    )
    serve.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        help="log level (default info)",
    )
    serve.set_defaults(run=_serve)
    return parser


def _event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _serve(options: dict[str, Any]) -> int:
    from app.server import Server
    from app.settings import ModelSettingsError, ServerSettings

    given = {key: value for key, value in options.items() if value is not None}
    try:
        settings = ServerSettings(**given)
    except ValidationError as error:
        print(f"oipserve: invalid settings: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    with asyncio.Runner(loop_factory=_event_loop_factory()) as runner:
        try:
            runner.run(Server(settings).serve())
        except (OSError, ModelSettingsError) as error:
            logging.getLogger("oipserve").error("%s", error)
            return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    options = vars(_parser().parse_args(argv))
    options.pop("command")
    run: Callable[[dict[str, Any]], int] = options.pop("run")
    return run(options)
