"""The bench's predict-only handler answers the grpc-small request as oipserve does, byte for
byte: its ratio to the floor is then a fair ceiling for oipserve's."""

from __future__ import annotations

import re

import grpc
import numpy as np

from app.grpc.convert import response_from_proto
from app.grpc.generated import open_inference_pb2 as pb
from app.server import Server
from app.settings import ServerSettings
from bench import minimal_grpc
from bench.payloads import GRPC_PATH, ROW, scenario
from bench.servers import MODELS, SMALL_W

SMALL = scenario("grpc-small")


async def _ask(port: int, request_id: str | None) -> tuple[bytes, str]:
    """The serialized answer to the grpc-small request (with `request_id` in its metadata if
    given), and the trailing request id."""
    metadata = (("x-request-id", request_id),) if request_id is not None else None
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        infer: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(GRPC_PATH)
        call = infer(SMALL.message, metadata=metadata, timeout=10)
        answer: bytes = await call
        trailing = dict(await call.trailing_metadata() or ())
    return answer, str(trailing["x-request-id"])


async def test_the_predict_only_handler_answers_what_oipserve_answers() -> None:
    settings = ServerSettings(model_repository=MODELS, host="127.0.0.1", http_port=0, grpc_port=0)
    oipserve = Server(settings)
    await oipserve.start()
    minimal, port = await minimal_grpc.start(MODELS)
    try:
        ours, ours_id = await _ask(oipserve.grpc_port, "bench-1")
        its, its_id = await _ask(port, "bench-1")
    finally:
        await minimal.stop(None)
        await oipserve.stop(grace=1)
    assert its == ours
    assert its_id == ours_id == "bench-1"
    (output,) = response_from_proto(pb.ModelInferResponse.FromString(its)).outputs
    np.testing.assert_allclose(output.data, ROW @ SMALL_W)


async def test_without_a_request_id_it_makes_one_as_long_as_oipserve_makes() -> None:
    minimal, port = await minimal_grpc.start(MODELS)
    try:
        serialized, trailing_id = await _ask(port, None)
    finally:
        await minimal.stop(None)
    answer = pb.ModelInferResponse.FromString(serialized)
    assert re.fullmatch(r"[0-9a-f]{8}-[1-9][0-9]*", answer.id)  # as app.calls.new_request_id
    assert trailing_id == answer.id
