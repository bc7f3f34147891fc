"""The bench scenarios and their requests, as the bytes a load generator sends."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np
import orjson

from app.grpc.generated import open_inference_pb2 as pb

GRPC_PATH = "/inference.GRPCInferenceService/ModelInfer"
ROW = np.array([[5.1, 3.5, 1.4, 0.2]], dtype=np.float32)
IMAGE = np.random.default_rng(7).random((1, 3, 224, 224), dtype=np.float32)
PIPELINE, STEP = "chain3.pipeline", "pass-1"
"""bench/models/chain3: pass-1, pass-2 and pass-3 (each answers its input) in a chain."""
STEPS = 3


@dataclass(frozen=True)
class Scenario:
    """One load: a request body sent over and over by `connections` connections (REST) or
    concurrent streams on one connection (gRPC)."""

    name: str
    transport: str  # "rest" or "grpc"
    model: str
    connections: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    large: bool = False
    step: str = ""
    """For a pipeline scenario: the model of one of its steps, whose own request (the same
    tensors, one connection) the pipeline is compared with."""

    @property
    def path(self) -> str:
        return GRPC_PATH if self.transport == "grpc" else f"/v2/models/{self.model}/infer"

    def one_step(self) -> Scenario:
        """A pipeline scenario's request sent to the model of one step instead."""
        body = self.body
        if self.transport == "grpc":
            body = grpc_frame(grpc_request(self.step, ROW).SerializeToString())
        name, connections = f"{self.name}-one-step", self.connections
        return Scenario(name, self.transport, self.step, connections, body, self.headers)

    @property
    def message(self) -> bytes:
        """A gRPC scenario's serialized request: the body without gRPC's 5-byte prefix."""
        return self.body[5:]


def json_request(array: np.ndarray) -> bytes:
    tensor = {
        "name": "input-0",
        "shape": list(array.shape),
        "datatype": "FP32",
        "data": array.ravel(),
    }
    return orjson.dumps({"inputs": [tensor]}, option=orjson.OPT_SERIALIZE_NUMPY)


def _binary_request(array: np.ndarray) -> tuple[bytes, int]:
    raw = array.astype("<f4").tobytes()
    header = orjson.dumps(
        {
            "inputs": [
                {
                    "name": "input-0",
                    "shape": list(array.shape),
                    "datatype": "FP32",
                    "parameters": {"binary_data_size": len(raw)},
                }
            ],
            "outputs": [{"name": "output-0", "parameters": {"binary_data": True}}],
        }
    )
    return header + raw, len(header)


def grpc_request(model: str, array: np.ndarray) -> pb.ModelInferRequest:
    """A ModelInferRequest carrying `array` as raw input contents."""
    request = pb.ModelInferRequest(model_name=model)
    request.inputs.add(name="input-0", datatype="FP32", shape=list(array.shape))
    request.raw_input_contents.append(array.astype("<f4").tobytes())
    return request


def grpc_frame(message: bytes) -> bytes:
    """A gRPC length-prefixed message: uncompressed flag, 4-byte big-endian length, bytes."""
    return struct.pack(">BI", 0, len(message)) + message


def scenario(name: str) -> Scenario:
    """The scenario called `name`."""
    return next(chosen for chosen in scenarios() if chosen.name == name)


def scenarios() -> list[Scenario]:
    """The scenarios, in the order the table prints them: issue 3's five, then a pipeline of
    three microsecond models."""
    json_type = {"Content-Type": "application/json"}
    binary, header_length = _binary_request(IMAGE)
    return [
        Scenario("rest-small", "rest", "small", 16, json_request(ROW), json_type),
        Scenario(
            "grpc-small",
            "grpc",
            "small",
            16,
            grpc_frame(grpc_request("small", ROW).SerializeToString()),
        ),
        Scenario("rest-large", "rest", "identity", 4, json_request(IMAGE), json_type, True),
        Scenario(
            "rest-large-bin",
            "rest",
            "identity",
            4,
            binary,
            {
                "Content-Type": "application/octet-stream",
                "Inference-Header-Content-Length": str(header_length),
            },
            True,
        ),
        Scenario(
            "grpc-large",
            "grpc",
            "identity",
            4,
            grpc_frame(grpc_request("identity", IMAGE).SerializeToString()),
            large=True,
        ),
        Scenario("rest-pipeline-3", "rest", PIPELINE, 16, json_request(ROW), json_type, step=STEP),
        Scenario(
            "grpc-pipeline-3",
            "grpc",
            PIPELINE,
            16,
            grpc_frame(grpc_request(PIPELINE, ROW).SerializeToString()),
            step=STEP,
        ),
    ]
