"""The gRPC reference: a bare grpc.aio server (on uvloop) whose ModelInfer does only what no
model server can skip. It reads each raw input as an array (`np.frombuffer`), awaits the
bench model's own `predict`, and answers the outputs as raw output contents, with the request
id (the metadata's, the message's or a new one) in the answer and its trailing metadata: byte
for byte what oipserve answers. It keeps no statistics or metrics and checks nothing, and it
has no error handling: the bench sends one well-formed request. What it reaches is a ceiling
for any complete servicer on grpc.aio.

    python -m bench.minimal_grpc PORT MODELS_FOLDER
"""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import uvloop

from app.grpc.generated import open_inference_pb2 as pb
from app.predictors.base import Predictor, call
from app.registry import ModelRegistry
from bench.floor_grpc import start_model_infer

_FP32 = np.dtype("<f4")  # the bench models take and give FP32 only
_PREFIX = os.urandom(4).hex()
_serial = itertools.count(1)
"""Request ids made as oipserve makes them, so that answers are as long as oipserve's."""


def _answer(
    request: pb.ModelInferRequest, version: str, request_id: str, outputs: dict[str, np.ndarray]
) -> bytes:
    message = pb.ModelInferResponse(
        model_name=request.model_name, model_version=version, id=request_id
    )
    for name, array in outputs.items():
        message.outputs.add(name=name, datatype="FP32", shape=array.shape)
        message.raw_output_contents.append(array.tobytes())
    return message.SerializeToString()


async def start(models: Path, port: int = 0) -> tuple[grpc.aio.Server, int]:
    """The server, started on 127.0.0.1 with the models of `models`, and its port."""
    predictors = await load_predictors(models)

    async def model_infer(
        request: pb.ModelInferRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> bytes:
        request_id = next(
            (
                value
                for key, value in context.invocation_metadata() or ()
                if key == "x-request-id" and isinstance(value, str)
            ),
            request.id or f"{_PREFIX}-{next(_serial)}",
        )
        inputs = {
            tensor.name: np.frombuffer(raw, _FP32).reshape(tensor.shape)
            for tensor, raw in zip(request.inputs, request.raw_input_contents, strict=True)
        }
        predictor = predictors[request.model_name]
        outputs = await call(predictor.predict, inputs)
        context.set_trailing_metadata((("x-request-id", request_id),))
        return _answer(request, predictor.version, request_id, outputs)

    return await start_model_infer(model_infer, bytes, port)


async def load_predictors(models: Path) -> dict[str, Predictor]:
    """The predictors of the models in `models`, by name, loaded by oipserve's registry (the
    version oipserve answers with when a request names none); ModelNotReady if one fails."""
    registry = ModelRegistry(models)
    await registry.load_repository()
    return {name: registry.predictor(name)[1] for name in registry.folders()}


async def serve(models: Path, port: int) -> None:
    server, _ = await start(models, port)
    await server.wait_for_termination()


def main() -> None:
    uvloop.run(serve(Path(sys.argv[2]), int(sys.argv[1])))


if __name__ == "__main__":
    main()
