"""The `oipserve` command: `oipserve serve [MODEL_REPOSITORY] ...`, `oipserve infer URL MODEL
...` and `oipserve pipeline inspect URL PIPELINE ...`. Nothing runs at import."""

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
    for flag, options in _OPERATION_FLAGS:
        serve.add_argument(flag, **options)
    serve.add_argument(
        "--http-max-body-mb",
        type=float,
        help="largest REST request body in MB; larger ones are 413s (default 64)",
    )
    serve.add_argument(
        "--gzip-min-bytes",
        type=int,
        help="gzip REST answers of this many bytes or more for clients that accept it "
        "(default 1000; 0: never)",
    )
    serve.add_argument(
        "--cors-origins",
        metavar="ORIGIN[,ORIGIN...]",
        help="allow cross-origin requests from these origins ('*': any; default: none)",
    )
    serve.add_argument(
        "--grpc-max-message-mb",
        type=float,
        help="largest gRPC message in MB, either way; larger ones are RESOURCE_EXHAUSTED "
        "(default 64)",
    )
    serve.set_defaults(run=_serve)
    _add_infer(commands)
    _add_pipeline(commands)
    return parser


_OPERATION_FLAGS: list[tuple[str, dict[str, Any]]] = [
    (
        "--inspect-requests",
        {
            "type": int,
            "metavar": "N",
            "help": "keep what each pipeline step was sent and answered for the last N "
            "requests (default 0: none), for `oipserve pipeline inspect`",
        },
    ),
    ("--metrics-port", {"type": int, "help": "also serve /metrics on this port (0 picks one)"}),
    (
        "--load-models",
        {
            "metavar": "all|none|A,B",
            "help": "models to load at start: all (default), none, or a comma-separated list",
        },
    ),
    (
        "--workers",
        {
            "type": int,
            "metavar": "N",
            "help": "N server processes on the same ports, kept by a supervisor (default 1)",
        },
    ),
    (
        "--ready-when",
        {
            "metavar": "all|any|A,B",
            "help": "server readiness: every model loaded at start is ready (all, the "
            "default), any one is, or the models named are (a pipeline as p.pipeline)",
        },
    ),
    (
        "--drain-seconds",
        {
            "type": float,
            "help": "after SIGTERM, readiness is 503 but requests are served this long (default 5)",
        },
    ),
    (
        "--grace-seconds",
        {"type": float, "help": "then in-flight requests get this long to finish (default 10)"},
    ),
    (
        "--log-level",
        {"choices": ["debug", "info", "warning", "error"], "help": "log level (default info)"},
    ),
    (
        "--log-format",
        {"choices": ["text", "json"], "help": "text lines or JSON lines (default text)"},
    ),
    (
        "--log-requests",
        {
            "action": "store_true",
            "default": None,
            "help": "log one line per inference request at info (default: at debug only)",
        },
    ),
]
"""The serve flags about running it in production: (flag, add_argument keywords)."""


def _add_infer(commands: Any) -> None:
    infer = commands.add_parser(
        "infer",
        help="run one inference on a server (REST or gRPC) and print the outputs",
        description="Run MODEL on a server: REST for http(s)://host:port, gRPC for "
        "grpc(s)://host:port or host:port. Prints the outputs, the request id and the latency.",
    )
    infer.add_argument("url", help="http(s)://host:port, grpc(s)://host:port or host:port")
    infer.add_argument("model", help="the model's name")
    infer.add_argument(
        "--input",
        "-i",
        action="append",
        required=True,
        metavar="NAME=SOURCE",
        help="an input tensor from a .npy file, a .json file or inline JSON (a nested list, "
        'or {"datatype": ..., "shape": ..., "data": ...}); repeat for several inputs',
    )
    infer.add_argument(
        "--output", "-o", action="append", default=[], help="return only this output (repeat)"
    )
    infer.add_argument("--model-version", help="the model version (default: the newest)")
    infer.add_argument("--id", help="the request id (default: a new UUID)")
    infer.add_argument("--timeout", type=float, default=60.0, help="seconds (default 60)")
    infer.add_argument("--json", action="store_true", help="print the outcome as JSON")
    infer.set_defaults(run=_infer)


def _add_pipeline(commands: Any) -> None:
    pipeline = commands.add_parser("pipeline", help="look into a server's pipelines")
    actions = pipeline.add_subparsers(dest="action", required=True)
    inspect = actions.add_parser(
        "inspect",
        help="print what a pipeline's steps were sent and answered in one request",
        description="Print the tensors each step of PIPELINE was sent (inputs) and answered "
        "(outputs) in request ID, one line each: step.side.tensor, datatype, shape, data. The "
        "server must keep them: `oipserve serve --inspect-requests N`.",
    )
    inspect.add_argument("url", help="the server's REST URL, http(s)://host:port")
    inspect.add_argument(
        "path",
        metavar="PIPELINE[.STEP[.inputs|.outputs[.TENSOR]]]",
        help="the pipeline, or one step, side or tensor of it",
    )
    inspect.add_argument(
        "--request-id",
        required=True,
        help="the request's id (its x-request-id header, else its id field)",
    )
    inspect.add_argument("--json", action="store_true", help="print the tensors as JSON")
    inspect.set_defaults(run=_inspect)


def _inspect(options: dict[str, Any]) -> int:
    from app.client.inspect_command import run

    options.pop("action")
    return run(options)


def _infer(options: dict[str, Any]) -> int:
    from app.client.command import run

    return run(options)


def _event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _serve(options: dict[str, Any]) -> int:
    from app.logs import setup_logging
    from app.server import Server
    from app.settings import ModelSettingsError, ServerSettings
    from app.workers import Supervisor

    given = {key: value for key, value in options.items() if value is not None}
    try:
        settings = ServerSettings(**given)
    except ValidationError as error:
        print(f"oipserve: invalid settings: {error}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.log_format)
    with asyncio.Runner(loop_factory=_event_loop_factory()) as runner:
        try:
            if settings.workers > 1:
                return runner.run(Supervisor(settings).run())
            runner.run(Server(settings).serve())
        except (OSError, ModelSettingsError, ValueError) as error:
            logging.getLogger("oipserve").error("%s", error)
            return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    options = vars(_parser().parse_args(argv))
    options.pop("command")
    run: Callable[[dict[str, Any]], int] = options.pop("run")
    return run(options)
