"""The gRPC floor: a bare grpc.aio server (on uvloop, as oipserve runs) whose ModelInfer
parses the request and answers the fixed ModelInferResponse oipserve gave for that model.

    python -m bench.floor_grpc PORT ANSWERS.json    # {"small": FILE, "identity": FILE}
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import orjson
import uvloop

from app.grpc.generated import open_inference_pb2 as pb
from bench.payloads import GRPC_PATH

_MAX_MESSAGE = 64 * 1024 * 1024


ModelInfer = Callable[[pb.ModelInferRequest, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]


async def start_model_infer(
    model_infer: ModelInfer, serialize: Callable[[Any], bytes], port: int = 0
) -> tuple[grpc.aio.Server, int]:
    """A bare grpc.aio server on 127.0.0.1 whose one method, ModelInfer, is `model_infer`,
    its answers written by `serialize`; started, with its port."""
    service, method = GRPC_PATH.strip("/").split("/")
    handler = grpc.unary_unary_rpc_method_handler(
        model_infer,
        request_deserializer=pb.ModelInferRequest.FromString,
        response_serializer=serialize,
    )
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", _MAX_MESSAGE),
            ("grpc.max_send_message_length", _MAX_MESSAGE),
        ]
    )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(service, {method: handler}),)
    )
    port = server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    return server, port


async def serve(port: int, answers: dict[str, pb.ModelInferResponse]) -> None:
    async def model_infer(
        request: pb.ModelInferRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ModelInferResponse:
        return answers[request.model_name]

    server, _ = await start_model_infer(model_infer, pb.ModelInferResponse.SerializeToString, port)
    await server.wait_for_termination()


def main() -> None:
    port, answers_file = int(sys.argv[1]), Path(sys.argv[2])
    answers = {
        model: pb.ModelInferResponse.FromString(Path(body).read_bytes())
        for model, body in orjson.loads(answers_file.read_bytes()).items()
    }
    uvloop.run(serve(port, answers))


if __name__ == "__main__":
    main()
