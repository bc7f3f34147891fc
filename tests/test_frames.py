"""How deep a request runs through our own code: the functions of app/ on the stack when a
predictor's `predict` runs, from the front that took the request."""

from __future__ import annotations

from pathlib import Path

import grpc
import httpx
import pytest

from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.service import Stub
from app.server import Server
from tests.repo import add_model

MOST = 8
"""The most of our own frames between a front and the predictor."""
BODY = {"inputs": [{"name": "x", "shape": [1], "datatype": "INT8", "data": [1]}]}


@pytest.fixture
def repository(repository: Path) -> Path:
    add_model(repository, "frames", "tests.toys:OurFrames")
    return repository


async def test_a_rest_request_reaches_the_predictor_through_few_frames(server: Server) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.http_port}") as client:
        answer = await client.post("/v2/models/frames/infer", json=BODY)
    frames = answer.json()["outputs"][0]["data"]
    assert frames == [
        "CloseWhenDraining.__call__",
        "BodyLimit.__call__",
        "Gzip.__call__",
        "InferRoutes.__call__",
        "InferEndpoint.__call__",
        "DataPlane.infer",
        "_call",
        "Plan.__call__",
    ]
    assert len(frames) <= MOST


async def test_a_grpc_request_reaches_the_predictor_through_few_frames(server: Server) -> None:
    request = pb.ModelInferRequest(model_name="frames")
    request.inputs.add(name="x", datatype="INT8", shape=[1])
    request.raw_input_contents.append(b"\x01")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        reply = await Stub(channel).ModelInfer(request)
    raw = reply.raw_output_contents[0]
    frames, offset = [], 0
    while offset < len(raw):  # BYTES elements: a 4-byte little-endian length, then the bytes
        size = int.from_bytes(raw[offset : offset + 4], "little")
        frames.append(raw[offset + 4 : offset + 4 + size].decode())
        offset += 4 + size
    assert frames == [
        "reports_errors.<locals>.wrapper",
        "InferenceServicer.ModelInfer",
        "DataPlane.infer",
        "_call",
        "Plan.__call__",
    ]
    assert len(frames) <= MOST
