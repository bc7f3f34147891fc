"""The command lines of `oipserve infer` and `oipserve pipeline inspect` (argparse): to a
server's URL, or through Seldon's Kafka topics with `--kafka BOOTSTRAP` (then no URL)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

Run = Callable[[dict[str, Any]], int]
_URL_SECOND = ("model", "path")
"""The positional after the optional URL, in each command's options."""


def _add_kafka(parser: argparse.ArgumentParser, what: str) -> Any:
    """The command's Kafka options: --kafka BOOTSTRAP, the topics' prefix and namespace."""
    kafka = parser.add_argument_group(
        "Kafka",
        f"With --kafka BOOTSTRAP in place of the URL: {what}. TLS and SASL settings come "
        "from the OIPSERVE_KAFKA_* environment, as for `oipserve serve` (the kafka extra).",
    )
    kafka.add_argument("--kafka", metavar="HOST:PORT[,...]", help="the Kafka brokers")
    kafka.add_argument(
        "--kafka-topic-prefix",
        help="topics are PREFIX.NAMESPACE.<kind>.<name>.inputs and .outputs (default seldon)",
    )
    kafka.add_argument("--kafka-namespace", help="the topics' namespace (default default)")
    return kafka


def add_infer(commands: Any, run: Run) -> None:
    infer = commands.add_parser(
        "infer",
        help="run one inference on a server (REST, gRPC or Kafka) and print the outputs",
        description="Run MODEL on a server: REST for http(s)://host:port, gRPC for "
        "grpc(s)://host:port or host:port, or through Kafka with --kafka (no URL then). "
        "Prints the outputs, the request id and the latency.",
    )
    infer.add_argument(
        "url", nargs="?", help="http(s)://host:port, grpc(s)://host:port or host:port"
    )
    infer.add_argument(
        "model",
        help="the model's name; over Kafka also name.model, name.pipeline or name.explainer",
    )
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
    infer.add_argument("--id", help="the request id (default: a new UUID); the record's key")
    infer.add_argument("--timeout", type=float, default=60.0, help="seconds (default 60)")
    infer.add_argument("--json", action="store_true", help="print the outcome as JSON")
    _add_kafka(
        infer,
        "the request (protobuf) goes to MODEL's inputs topic, the record of its id is "
        "awaited on the outputs or the errors topic; the inputs' datatypes come from their "
        "JSON or numpy, not from the model's metadata",
    )
    infer.set_defaults(run=run)


def add_pipeline(commands: Any, run: Run) -> None:
    pipeline = commands.add_parser("pipeline", help="look into a server's pipelines")
    actions = pipeline.add_subparsers(dest="action", required=True)
    inspect = actions.add_parser(
        "inspect",
        help="print what a pipeline's steps were sent and answered in one request",
        description="Print the tensors each step of PIPELINE was sent (inputs) and answered "
        "(outputs) in request ID, one line each: step.side.tensor, datatype, shape, data. The "
        "server must keep them (`oipserve serve --inspect-requests N`), or, with --kafka, "
        "have written them to the topics (`oipserve serve --kafka-step-topics`).",
    )
    inspect.add_argument("url", nargs="?", help="the server's REST URL, http(s)://host:port")
    inspect.add_argument(
        "path",
        metavar="PIPELINE[.STEP[.inputs|.outputs[.TENSOR]]]",
        help="the pipeline, or one step, side or tensor of it",
    )
    inspect.add_argument(
        "--request-id",
        required=True,
        help="the request's id (its x-request-id header, else its id field; over Kafka the "
        "records' key)",
    )
    inspect.add_argument("--json", action="store_true", help="print the tensors as JSON")
    kafka = _add_kafka(
        inspect,
        "the records are read from the pipeline's inputs and outputs topics and from its "
        "steps' outputs topics (model.<step>.outputs)",
    )
    kafka.add_argument(
        "--offset",
        type=int,
        default=10,
        metavar="N",
        help="read the last N records of each partition of those topics (default 10)",
    )
    inspect.set_defaults(run=run)


def over_kafka(options: dict[str, Any], command: str) -> bool | None:
    """Whether the command goes through Kafka (--kafka) rather than to a server's URL; None,
    after saying why, when it has both or neither."""
    url, kafka = options["url"], options["kafka"]
    if url is None and kafka is None:
        print(f"oipserve {command}: give the server's URL, or --kafka BOOTSTRAP", file=sys.stderr)
    elif url is not None and kafka is not None:
        print(f"oipserve {command}: --kafka goes without a URL, got {url!r}", file=sys.stderr)
    else:
        return kafka is not None
    return None


def url_first(options: dict[str, Any], extra: list[str]) -> bool:
    """`URL --option ... MODEL`: the URL being optional, argparse took it for the MODEL and
    left the MODEL over; put both in their places (whether it did)."""
    second = next((key for key in _URL_SECOND if key in options), None)
    if second is None or options.get("url") is not None or len(extra) != 1:
        return False
    if extra[0].startswith("-"):
        return False
    options["url"], options[second] = options[second], extra[0]
    return True
