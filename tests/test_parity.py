"""REST and gRPC agree: each bad request both can express gets the same status (through the
one table, app.protocol.errors.Status) and the same message, from one real server."""

from __future__ import annotations

import grpc
import httpx
import pytest

from app.protocol.errors import status_for_grpc, status_for_http
from app.server import Server
from tests.bad_requests import BOTH_CASES
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
