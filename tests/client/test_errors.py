"""Client exceptions come from the same Status table as the server's; connection failures
are ConnectionErrors, deadlines TimeoutErrors."""

from __future__ import annotations

import asyncio

import pytest

from app.client.errors import Scope, ServerUnreachable, error_for_grpc, error_for_http
from app.protocol.errors import (
    DeadlineExceeded,
    InvalidInput,
    ModelNotFound,
    ModelNotReady,
    OIPError,
    PayloadTooLarge,
    PredictorError,
    ServerNotReady,
    Status,
    Unavailable,
    Unsupported,
)

EXPECTED = {
    Status.INVALID_ARGUMENT: InvalidInput,
    Status.NOT_FOUND: ModelNotFound,
    Status.RESOURCE_EXHAUSTED: PayloadTooLarge,
    Status.UNIMPLEMENTED: Unsupported,
    Status.DEADLINE_EXCEEDED: DeadlineExceeded,
    Status.INTERNAL: PredictorError,
}


@pytest.mark.parametrize("status", list(EXPECTED))
def test_http_and_grpc_map_each_status_to_the_same_class(status: Status) -> None:
    over_http = error_for_http(status.http, "why", Scope.MODEL)
    over_grpc = error_for_grpc(status.grpc, "why", Scope.MODEL)
    assert type(over_http) is type(over_grpc) is EXPECTED[status]
    assert over_http.status is over_grpc.status is status
    assert over_http.message == over_grpc.message == "why"


def test_unavailable_names_what_is_not_ready() -> None:
    assert type(error_for_http(503, "m", Scope.MODEL)) is ModelNotReady
    assert type(error_for_grpc("UNAVAILABLE", "s", Scope.SERVER)) is ServerNotReady


def test_unknown_codes() -> None:
    assert type(error_for_http(401, "no", Scope.MODEL)) is InvalidInput
    assert type(error_for_http(502, "bad gateway", Scope.MODEL)) is PredictorError
    assert type(error_for_grpc("DATA_LOSS", "lost", Scope.MODEL)) is PredictorError


def test_builtin_bases() -> None:
    unreachable = ServerUnreachable("refused")
    assert isinstance(unreachable, ConnectionError)
    assert isinstance(unreachable, Unavailable)
    assert unreachable.status is Status.UNAVAILABLE
    assert str(unreachable) == unreachable.message == "refused"
    late = DeadlineExceeded("late")
    assert isinstance(late, asyncio.TimeoutError)
    assert isinstance(late, OIPError)
    assert str(late) == "late"
