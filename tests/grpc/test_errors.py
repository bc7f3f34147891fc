"""The gRPC side of the status table, and `reports_errors` on a real server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from app.grpc.errors import CODES, reports_errors
from app.protocol import errors
from app.protocol.errors import Status


def test_every_status_has_its_grpc_code() -> None:
    assert set(CODES) == set(Status)
    for status, code in CODES.items():
        assert code.name == status.grpc


class Raiser:
    """A servicer whose one method raises the error the request names."""

    @reports_errors
    async def raise_error(
        self, request: bytes, context: grpc.aio.ServicerContext[Any, Any]
    ) -> bytes:
        kind = request.decode()
        if kind == "ok":
            return b"fine"
        if kind == "bug":
            raise KeyError("surprise")
        raise getattr(errors, kind)(f"raised {kind}")


@pytest.fixture
async def raiser() -> AsyncIterator[grpc.aio.UnaryUnaryMultiCallable[bytes, bytes]]:
    server = grpc.aio.server()
    handler: grpc.RpcMethodHandler[bytes, bytes] = grpc.unary_unary_rpc_method_handler(
        Raiser().raise_error
    )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("test.Raiser", {"Raise": handler}),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield channel.unary_unary("/test.Raiser/Raise")
    await server.stop(None)


@pytest.mark.parametrize(
    "kind",
    [
        "InvalidInput",
        "ModelNotFound",
        "PayloadTooLarge",
        "ModelNotReady",
        "Unsupported",
        "DeadlineExceeded",
        "PredictorError",
        "ServerNotReady",
    ],
)
async def test_protocol_errors_abort_with_their_code(
    raiser: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes], kind: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await raiser(kind.encode())
    status = getattr(errors, kind).status
    assert caught.value.code() is CODES[status]
    assert caught.value.details() == f"raised {kind}"


async def test_bugs_are_internal_without_details(
    raiser: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes], caplog: pytest.LogCaptureFixture
) -> None:
    assert await raiser(b"ok") == b"fine"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await raiser(b"bug")
    assert caught.value.code() is grpc.StatusCode.INTERNAL
    assert caught.value.details() == "internal error: KeyError"
    assert "unexpected error in raise_error" in caplog.text
