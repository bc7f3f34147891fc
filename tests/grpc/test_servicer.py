"""The gRPC servicer against a real grpc.aio server on 127.0.0.1."""

from __future__ import annotations

import grpc
import numpy as np
import pytest

from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.service import Stub
from tests.payloads import IRIS_CLASSES, IRIS_ROWS


def _iris_request(raw: bool) -> pb.ModelInferRequest:
    request = pb.ModelInferRequest(model_name="iris", id="g-1")
    tensor = request.inputs.add(name="input-0", datatype="FP32", shape=[2, 4])
    if raw:
        request.raw_input_contents.append(IRIS_ROWS.tobytes())
    else:
        tensor.contents.fp32_contents.extend(IRIS_ROWS.ravel().tolist())
    return request


@pytest.mark.parametrize("raw", [True, False])
async def test_model_infer_classifies_iris(channel: grpc.aio.Channel, raw: bool) -> None:
    response = await Stub(channel).ModelInfer(_iris_request(raw))
    assert response.id == "g-1"
    assert response.model_version == "1"
    (output,) = response.outputs
    assert list(output.shape) == [2, 3]
    if raw:
        probabilities = np.frombuffer(response.raw_output_contents[0], dtype="<f4")
    else:
        probabilities = np.array(output.contents.fp32_contents)
    assert probabilities.reshape(2, 3).argmax(axis=1).tolist() == IRIS_CLASSES


async def test_unknown_model_is_not_found(channel: grpc.aio.Channel) -> None:
    request = _iris_request(raw=True)
    request.model_name = "nope"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await Stub(channel).ModelInfer(request)
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    assert caught.value.details() == "model 'nope' not found"
