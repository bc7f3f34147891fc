"""The `oipserve` command: `oipserve serve [MODEL_REPOSITORY] ...`, `oipserve infer URL MODEL
...` and `oipserve pipeline inspect URL PIPELINE ...` (those two through Kafka with `--kafka
BOOTSTRAP` in place of the URL). Nothing runs at import."""

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
from app.client.parsers import Run, add_infer, add_pipeline, over_kafka, url_first


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
    kafka = serve.add_argument_group(
        "Kafka", "read Seldon's topics when --kafka-bootstrap is given (the kafka extra)"
    )
    for flag, options in _KAFKA_FLAGS:
        kafka.add_argument(flag, **options)
    serve.set_defaults(run=_serve)
    add_infer(commands, _infer)
    add_pipeline(commands, _inspect)
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

_KAFKA_FLAGS: list[tuple[str, dict[str, Any]]] = [
    ("--kafka-bootstrap", {"metavar": "HOST:PORT[,...]", "help": "the Kafka brokers"}),
    (
        "--kafka-topic-prefix",
        {"help": "topics are PREFIX.NAMESPACE.<kind>.<name>.inputs and .outputs (default seldon)"},
    ),
    ("--kafka-namespace", {"help": "the topics' namespace (default default)"}),
    ("--kafka-group-id", {"help": "the consumer group (default oipserve-<namespace>)"}),
    (
        "--kafka-max-in-flight",
        {
            "type": int,
            "metavar": "N",
            "help": "records of a partition answered at once (default 32)",
        },
    ),
    (
        "--kafka-step-topics",
        {
            "action": "store_true",
            "default": None,
            "help": "also write each pipeline step's answer to model.<step>.outputs",
        },
    ),
    (
        "--kafka-session-timeout-ms",
        {"type": int, "help": "how long the group waits for a silent member (default 10000)"},
    ),
    (
        "--kafka-batch-bytes",
        {
            "type": int,
            "metavar": "N",
            "help": "the most bytes of answers written to a partition at once, under the "
            "brokers' max.message.bytes (default 262144)",
        },
    ),
    (
        "--kafka-security-protocol",
        {
            "choices": ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"],
            "help": "default PLAINTEXT",
        },
    ),
    ("--kafka-ssl-cafile", {"type": Path, "help": "CA certificates to trust (PEM)"}),
    ("--kafka-ssl-certfile", {"type": Path, "help": "the client certificate (PEM)"}),
    ("--kafka-ssl-keyfile", {"type": Path, "help": "the client certificate's key (PEM)"}),
    (
        "--kafka-sasl-mechanism",
        {
            "choices": ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"],
            "help": "default PLAIN; the user and password come from OIPSERVE_KAFKA_SASL_USERNAME "
            "and OIPSERVE_KAFKA_SASL_PASSWORD",
        },
    ),
]
"""The serve flags of the Kafka front: (flag, add_argument keywords)."""


def _kafka_command(name: str) -> Run | None:
    """The Kafka command `name` of app.kafka.commands; None, after saying so, without the
    kafka extra."""
    try:
        from app.kafka import commands
    except ModuleNotFoundError as error:
        if error.name != "aiokafka":
            raise
        print(
            "oipserve: --kafka needs the kafka extra: pip install 'oipserve[kafka]'",
            file=sys.stderr,
        )
        return None
    found: Run = getattr(commands, name)
    return found


def _through(options: dict[str, Any], command: str, kafka_name: str, direct: Run) -> int:
    """Run the command to the server's URL (`direct`) or through Kafka."""
    kafka = over_kafka(options, command)
    if kafka is None:
        return 2
    run = _kafka_command(kafka_name) if kafka else direct
    return 2 if run is None else run(options)


def _inspect(options: dict[str, Any]) -> int:
    from app.client.inspect_command import run

    options.pop("action")
    return _through(options, "pipeline inspect", "run_inspect", run)


def _infer(options: dict[str, Any]) -> int:
    from app.client.command import run

    return _through(options, "infer", "run_infer", run)


def _event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _serve(options: dict[str, Any]) -> int:
    from app.kafka.settings import KafkaSettings
    from app.logs import setup_logging
    from app.model_settings import ModelSettingsError
    from app.server import Server
    from app.settings import ServerSettings
    from app.workers import Supervisor

    given = {key: value for key, value in options.items() if value is not None}
    kafka_given = {
        key.removeprefix("kafka_"): given.pop(key)
        for key in list(given)
        if key.startswith("kafka_")
    }
    try:
        settings = ServerSettings(**given)
        kafka = KafkaSettings(**kafka_given)
    except ValidationError as error:
        print(f"oipserve: invalid settings: {error}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.log_format)
    with asyncio.Runner(loop_factory=_event_loop_factory()) as runner:
        try:
            if settings.workers > 1:
                return runner.run(Supervisor(settings, kafka).run())
            runner.run(Server(settings, kafka=kafka).serve())
        except (OSError, ModelSettingsError, ValueError) as error:
            logging.getLogger("oipserve").error("%s", error)
            return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    namespace, extra = parser.parse_known_args(argv)
    options = vars(namespace)
    if extra and not url_first(options, extra):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    options.pop("command")
    run: Run = options.pop("run")
    return run(options)
