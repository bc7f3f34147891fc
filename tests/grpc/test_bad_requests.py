"""Every bad request of the table over gRPC: the right code, details naming the problem, and
the server still live and ready afterwards."""

from __future__ import annotations

import grpc
import pytest

from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.service import Stub
from tests.bad_requests import GRPC_CASES
from tests.request_forms import BadRequest, send_grpc


@pytest.mark.parametrize("case", GRPC_CASES, ids=lambda case: case.id)
async def test_bad_request(channel: grpc.aio.Channel, case: BadRequest) -> None:
    assert case.grpc is not None
    code, message = await send_grpc(channel, case.grpc)
    assert code == case.status.grpc, message
    assert case.matches(message), message
    stub = Stub(channel)
    assert (await stub.ServerLive(pb.ServerLiveRequest())).live
    assert (await stub.ServerReady(pb.ServerReadyRequest())).ready
