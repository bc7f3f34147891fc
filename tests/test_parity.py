"""REST and gRPC agree: each bad request both can express gets the same status (through the
one table, app.protocol.errors.Status) and the same message, from one real server."""

from __future__ import annotations

import grpc
import httpx
import numpy as np
import orjson
import pytest

from app.client import InferInput, InferRequest, InProcessClient
from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.service import Stub
from app.protocol.errors import status_for_grpc, status_for_http
from app.server import Server
from tests.bad_requests import BOTH_CASES
from tests.payloads import IRIS_ROWS, iris_request
from tests.request_forms import BadRequest, send_grpc, send_rest


@pytest.mark.parametrize("case", BOTH_CASES, ids=lambda case: case.id)
async def test_rest_and_grpc_agree(
    server: Server, channel: grpc.aio.Channel, case: BadRequest
) -> None:
    assert case.rest is not None
    assert case.grpc is not None
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.http_port}") as client:
        http_code, rest_message = await send_rest(client, case.rest)
    grpc_code, grpc_message = await send_grpc(channel, case.grpc)
    assert status_for_http(http_code) is status_for_grpc(grpc_code) is case.status
    assert rest_message == grpc_message
    assert case.matches(rest_message), rest_message


async def test_every_kind_of_request_takes_the_one_path(server: Server) -> None:
    """REST JSON, REST binary, gRPC raw, gRPC typed and in process: the same answer, each
    counted by the DataPlane (the only caller of the Monitor) under its front."""
    rows = IRIS_ROWS
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.http_port}") as client:
        json_answer = await client.post("/v2/models/iris/infer", json=iris_request())
        size = {"binary_data_size": rows.nbytes}
        binary = {"name": "input-0", "shape": [2, 4], "datatype": "FP32", "parameters": size}
        head = orjson.dumps({"inputs": [binary]})
        binary_answer = await client.post(
            "/v2/models/iris/infer",
            content=head + rows.tobytes(),
            headers={"Inference-Header-Content-Length": str(len(head))},
        )
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        stub = Stub(channel)
        raw = pb.ModelInferRequest(model_name="iris")
        raw.inputs.add(name="input-0", datatype="FP32", shape=[2, 4])
        raw.raw_input_contents.append(rows.tobytes())
        typed = pb.ModelInferRequest(model_name="iris")
        typed.inputs.add(name="input-0", datatype="FP32", shape=[2, 4])
        typed.inputs[0].contents.fp32_contents.extend(rows.ravel().tolist())
        raw_reply = await stub.ModelInfer(raw)
        typed_reply = await stub.ModelInfer(typed)
    tensor = InferInput("input-0", [2, 4], "FP32")
    tensor.set_data_from_numpy(rows)
    in_process = await InProcessClient(server.dataplane).infer(InferRequest("iris", [tensor]))
    answers = [
        np.array(json_answer.json()["outputs"][0]["data"], np.float32).reshape(2, 3),
        np.array(binary_answer.json()["outputs"][0]["data"], np.float32).reshape(2, 3),
        np.frombuffer(raw_reply.raw_output_contents[0], "<f4").reshape(2, 3),
        np.array(typed_reply.outputs[0].contents.fp32_contents, np.float32).reshape(2, 3),
        in_process["output-0"].as_numpy(),
    ]
    for answer in answers[1:]:
        assert np.array_equal(answer, answers[0])
    counts = {key[2]: series.count for key, series in server.dataplane.monitor.series.items()}
    assert counts == {"rest": 2, "grpc": 2, "inprocess": 1}
