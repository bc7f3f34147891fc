"""Arrays a predictor gets are writable where that costs no copy: a REST body large enough to
arrive in parts is joined into a writable buffer, so binary tensors over it are writable; JSON
tensors are always (numpy builds them); gRPC's raw contents are read-only (protobuf's bytes),
which docs/models.md says, with the one-line fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.client import InferenceGRPCClient, InferenceRESTClient, InferInput, InferRequest
from app.server import Server
from tests.repo import add_model


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    repo = tmp_path / "models"
    add_model(repo, "writable", "tests.toys:Writable")
    return repo


def _request(array: np.ndarray, binary: bool) -> InferRequest:
    tensor = InferInput("x", list(array.shape), "FP32")
    tensor.set_data_from_numpy(array, binary_data=binary)
    return InferRequest("writable", [tensor])


async def _writable(
    client: InferenceRESTClient | InferenceGRPCClient, request: InferRequest
) -> bool:
    response = await client.infer(request)
    return bool(response["x"].as_numpy()[0])


async def test_which_arrays_a_predictor_can_write_to(server: Server) -> None:
    large = np.ones((256, 1024), dtype=np.float32)  # 1 MB: it arrives in parts
    small = np.ones((2, 2), dtype=np.float32)
    async with InferenceRESTClient(f"http://127.0.0.1:{server.http_port}") as rest:
        assert await _writable(rest, _request(large, binary=True))
        assert await _writable(rest, _request(small, binary=False))
    async with InferenceGRPCClient(f"127.0.0.1:{server.grpc_port}") as grpc:
        assert not await _writable(grpc, _request(small, binary=True))
