"""oipserve's own Python per inference, without sockets or the transports' C code: a
scenario's request (grpc-small, rest-small, or the pipeline's) through the gRPC servicer or the
REST app, or a Kafka record of the small request (JSON or protobuf) through the Kafka front's
record handler, in this process, one after another on the event loop. It prints microseconds
per request; run it under a profiler to see where they go:

    python -m bench.inprocess [--requests N] grpc-small|rest-small|grpc-pipeline-3|rest-pipeline-3
    python -m bench.inprocess kafka-json|kafka-proto
    py-spy record -o grpc.svg -- python -m bench.inprocess grpc-small
    valgrind --tool=callgrind python -m bench.inprocess --requests 2000 grpc-small
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple, cast

import numpy as np
import orjson
import uvloop
from starlette.types import Message

from app.client.inprocess import InProcessClient
from app.dataplane import DataPlane
from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.servicer import Context, InferenceServicer
from app.kafka.handler import RecordHandler
from app.kafka.routes import Route
from app.kafka.topics import Topics
from app.registry import ModelRegistry
from app.resolver import Kind, Target
from app.rest import create_app
from app.settings import ServerSettings
from bench.payloads import ROW, grpc_request, json_request, scenario
from bench.servers import MODELS, check_answer

Ask = Callable[[], Awaitable[bytes]]
"""One request, answered: the answer's body (REST) or message (gRPC)."""
_WARMUP = 200


class _Context:
    """What ModelInfer uses of a grpc.aio ServicerContext, with the metadata h2load sends."""

    def __init__(self) -> None:
        self.trailing: tuple[tuple[str, str], ...] = ()

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return (("user-agent", "h2load nghttp2/1.52.0"),)

    def set_trailing_metadata(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self.trailing = tuple(metadata)

    def time_remaining(self) -> float | None:
        return None

    async def abort(self, code: object, details: str) -> None:
        raise RuntimeError(f"{code}: {details}")


async def _dataplane() -> DataPlane:
    settings = ServerSettings(model_repository=MODELS)
    registry = ModelRegistry(MODELS)
    await registry.load_repository()
    dataplane = DataPlane(registry, settings)
    registry.client = InProcessClient(dataplane)  # as the Server wires it, for the pipeline
    await dataplane.pipelines.load_repository()
    dataplane.mark_started()
    return dataplane


def _grpc(dataplane: DataPlane, name: str) -> Ask:
    servicer = InferenceServicer(dataplane)
    body = scenario(name).message
    context = cast("Context", _Context())

    async def ask() -> bytes:
        return await servicer.ModelInfer(body, context)

    return ask


def _rest(dataplane: DataPlane, name: str) -> Ask:
    app = create_app(dataplane, dataplane.settings)
    chosen = scenario(name)
    body, path = chosen.body, chosen.path
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    async def ask() -> bytes:
        sent.clear()
        await app(dict(scope), receive, send)
        answer: bytes = sent[-1]["body"]
        return answer

    return ask


class _Record(NamedTuple):
    topic: str
    offset: int
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def _kafka(dataplane: DataPlane, name: str) -> Ask:
    """A record to `small` through the record handler: its answer's value (no broker)."""
    topics, target = Topics(), Target(Kind.MODEL, "small")
    handler = RecordHandler(dataplane, topics)
    route = Route(target, topics.outputs(target))
    value = (
        json_request(ROW)
        if name == "kafka-json"
        else grpc_request("small", ROW).SerializeToString()
    )
    record = _Record(topics.inputs(target), 0, b"r0", value, [])

    async def ask() -> bytes:
        return (await handler.answer(record, route))[-1].value

    return ask


def _grpc_values(answer: bytes) -> np.ndarray:
    raw = pb.ModelInferResponse.FromString(answer).raw_output_contents[0]
    return np.frombuffer(raw, dtype="<f4")


def _rest_values(answer: bytes) -> np.ndarray:
    message: dict[str, Any] = orjson.loads(answer)
    return np.array(message["outputs"][0]["data"], dtype=np.float32)


SCENARIOS = {
    "grpc-small": (_grpc, _grpc_values),
    "rest-small": (_rest, _rest_values),
    "grpc-pipeline-3": (_grpc, _grpc_values),
    "rest-pipeline-3": (_rest, _rest_values),
    "kafka-json": (_kafka, _rest_values),
    "kafka-proto": (_kafka, _grpc_values),
}
CHECKED_AS = {"kafka-json": "rest-small", "kafka-proto": "grpc-small"}
"""The scenario whose answer a Kafka record's must hold (the same request to `small`)."""
"""Each scenario: how to ask, and how to read the output values off the answer."""


async def seconds_per_request(name: str, requests: int) -> float:
    """The mean time of `requests` requests of scenario `name`, after a check of the answer
    (RuntimeError if it is wrong) and a warm-up."""
    build, read = SCENARIOS[name]
    ask = build(await _dataplane(), name)
    check_answer(scenario(CHECKED_AS.get(name, name)), read(await ask()))
    for _ in range(_WARMUP):
        await ask()
    started = time.perf_counter()
    for _ in range(requests):
        await ask()
    return (time.perf_counter() - started) / requests


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__)
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--requests", type=int, default=20_000)
    options = parser.parse_args()
    seconds = uvloop.run(seconds_per_request(options.scenario, options.requests))
    print(f"{options.scenario}: {seconds * 1e6:.1f} us per request in process")


if __name__ == "__main__":
    main()
