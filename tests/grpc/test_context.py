"""Request ids, X- metadata, deadlines and cancellation over gRPC, on a real server."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest

from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.service import Stub
from app.server import Server
from tests.grpc.test_servicer import _iris_request
from tests.repo import add_model
from tests.toys import recorded


@pytest.fixture
def repository(repository: Path) -> Path:
    add_model(repository, "slow", "tests.toys:Recorder", parameters={"seconds": 5})
    add_model(repository, "bad", "tests.toys:BadLoad")
    return repository


def _params_request(id: str = "") -> pb.ModelInferRequest:
    request = pb.ModelInferRequest(model_name="params", id=id)
    request.inputs.add(name="a", datatype="INT32", shape=[1]).contents.int_contents.append(7)
    return request


async def test_metadata_id_and_x_headers_travel_both_ways(channel: grpc.aio.Channel) -> None:
    call = Stub(channel).ModelInfer(
        _params_request(id="body"),
        metadata=(("x-request-id", "m-1"), ("x-tenant", "acme"), ("other", "no")),
    )
    response = await call
    assert response.id == "m-1"
    assert response.parameters["x-tenant"].string_param == "acme"
    assert "other" not in response.parameters
    trailing = dict(await call.trailing_metadata())
    assert (trailing["x-request-id"], trailing["x-tenant"]) == ("m-1", "acme")


async def test_body_id_or_a_new_one_is_echoed(channel: grpc.aio.Channel) -> None:
    call = Stub(channel).ModelInfer(_params_request(id="b-2"))
    assert (await call).id == "b-2"
    assert dict(await call.trailing_metadata())["x-request-id"] == "b-2"
    fresh = Stub(channel).ModelInfer(_params_request())
    assert (await fresh).id == dict(await fresh.trailing_metadata())["x-request-id"]


async def test_errors_echo_the_id(channel: grpc.aio.Channel) -> None:
    request = _iris_request(raw=True)
    request.model_name = "nope"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await Stub(channel).ModelInfer(request, metadata=(("x-request-id", "e-1"),))
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    assert dict(caught.value.trailing_metadata())["x-request-id"] == "e-1"


def _unknown_model(request: pb.ModelInferRequest) -> None:
    request.model_name = "nope"


def _unknown_version(request: pb.ModelInferRequest) -> None:
    request.model_version = "9"


def _not_ready(request: pb.ModelInferRequest) -> None:
    request.model_name = "bad"


def _wrong_datatype(request: pb.ModelInferRequest) -> None:
    request.inputs[0].datatype = "FP64"
    request.raw_input_contents[0] *= 2


def _wrong_shape(request: pb.ModelInferRequest) -> None:
    request.inputs[0].shape[:] = [8]


@pytest.mark.parametrize(
    ("spoil", "code"),
    [
        (_unknown_model, grpc.StatusCode.NOT_FOUND),
        (_unknown_version, grpc.StatusCode.NOT_FOUND),
        (_not_ready, grpc.StatusCode.UNAVAILABLE),
        (_wrong_datatype, grpc.StatusCode.INVALID_ARGUMENT),
        (_wrong_shape, grpc.StatusCode.INVALID_ARGUMENT),
    ],
)
async def test_early_failures_echo_the_body_id(
    channel: grpc.aio.Channel,
    caplog: pytest.LogCaptureFixture,
    spoil: Callable[[pb.ModelInferRequest], None],
    code: grpc.StatusCode,
) -> None:
    caplog.set_level(logging.DEBUG, logger="oipserve.requests")
    request = _iris_request(raw=True)
    request.id = "early"
    spoil(request)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await Stub(channel).ModelInfer(request)
    assert caught.value.code() is code, caught.value.details()
    assert dict(caught.value.trailing_metadata())["x-request-id"] == "early"
    (line,) = [r for r in caplog.records if r.name == "oipserve.requests"]
    assert line.request_id == "early"  # type: ignore[attr-defined]  # set by the Monitor
    with pytest.raises(grpc.aio.AioRpcError) as headed:
        await Stub(channel).ModelInfer(request, metadata=(("x-request-id", "h"),))
    assert dict(headed.value.trailing_metadata())["x-request-id"] == "h"


async def _until_finished(server: Server, repository: Path, event: str) -> None:
    for _ in range(200):
        if recorded(repository / "slow")[-1:] == [event] and not server.dataplane.monitor.inflight:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{event!r} never came: {recorded(repository / 'slow')}")


def _slow_request(id: str) -> pb.ModelInferRequest:
    request = _params_request(id=id)
    request.model_name = "slow"
    return request


async def test_deadline_cancels_the_predictor_and_is_counted(
    server: Server, channel: grpc.aio.Channel, repository: Path
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await Stub(channel).ModelInfer(_slow_request("late"), timeout=0.3)
    assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    await _until_finished(server, repository, "cancelled late")
    series = server.dataplane.monitor.series[("slow", "1", "grpc", "deadline_exceeded")]
    assert series.count == 1


async def test_a_client_that_cancels_cancels_the_predictor(
    server: Server, channel: grpc.aio.Channel, repository: Path
) -> None:
    call = Stub(channel).ModelInfer(_slow_request("gone"))
    await asyncio.sleep(0.3)
    call.cancel()
    await _until_finished(server, repository, "cancelled gone")
    assert server.dataplane.monitor.series[("slow", "1", "grpc", "cancelled")].count == 1


async def test_timeout_parameter_over_grpc(channel: grpc.aio.Channel) -> None:
    request = _slow_request("t")
    request.parameters["timeout"].int64_param = 50_000
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await Stub(channel).ModelInfer(request)
    assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert "within the request's deadline (50 ms)" in (caught.value.details() or "")
