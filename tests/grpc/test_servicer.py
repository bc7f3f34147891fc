"""Every RPC of GRPCInferenceService against a real grpc.aio server on 127.0.0.1."""

from __future__ import annotations

import math

import grpc
import numpy as np
import pytest

from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.service import Stub
from app.protocol.codecs.datatypes import Datatype
from app.protocol.codecs.raw import array_to_raw
from app.server import Server
from tests.payloads import IRIS_CLASSES, IRIS_ROWS


def _iris_request(raw: bool, **fields: object) -> pb.ModelInferRequest:
    request = pb.ModelInferRequest(model_name="iris", id="g-1", **fields)  # type: ignore[arg-type]  # test values
    tensor = request.inputs.add(name="input-0", datatype="FP32", shape=[2, 4])
    if raw:
        request.raw_input_contents.append(IRIS_ROWS.tobytes())
    else:
        tensor.contents.fp32_contents.extend(IRIS_ROWS.ravel().tolist())
    return request


async def _failure(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]  # an RPC call object
    return caught.value


async def test_server_live_and_ready(channel: grpc.aio.Channel) -> None:
    stub = Stub(channel)
    assert (await stub.ServerLive(pb.ServerLiveRequest())).live
    assert (await stub.ServerReady(pb.ServerReadyRequest())).ready


async def test_server_metadata(channel: grpc.aio.Channel) -> None:
    metadata = await Stub(channel).ServerMetadata(pb.ServerMetadataRequest())
    assert (metadata.name, metadata.version) == ("oipserve", "0.1.0")


@pytest.mark.parametrize("version", ["", "1"])
async def test_model_metadata(channel: grpc.aio.Channel, version: str) -> None:
    metadata = await Stub(channel).ModelMetadata(
        pb.ModelMetadataRequest(name="iris", version=version)
    )
    assert (metadata.name, list(metadata.versions), metadata.platform) == ("iris", ["1"], "numpy")
    assert [(t.name, t.datatype, list(t.shape)) for t in metadata.inputs] == [
        ("input-0", "FP32", [-1, 4])
    ]
    assert [(t.name, t.datatype, list(t.shape)) for t in metadata.outputs] == [
        ("output-0", "FP32", [-1, 3])
    ]


async def test_model_ready(channel: grpc.aio.Channel) -> None:
    stub = Stub(channel)
    assert (await stub.ModelReady(pb.ModelReadyRequest(name="iris"))).ready
    assert (await stub.ModelReady(pb.ModelReadyRequest(name="versioned", version="2"))).ready
    error = await _failure(stub.ModelReady(pb.ModelReadyRequest(name="nope")))
    assert (error.code(), error.details()) == (grpc.StatusCode.NOT_FOUND, "model 'nope' not found")
    error = await _failure(stub.ModelMetadata(pb.ModelMetadataRequest(name="iris", version="9")))
    assert error.code() is grpc.StatusCode.NOT_FOUND
    assert error.details() == "model 'iris' has no version '9' (versions: '1')"


@pytest.mark.parametrize("raw", [True, False])
async def test_model_infer_classifies_iris(channel: grpc.aio.Channel, raw: bool) -> None:
    response = await Stub(channel).ModelInfer(_iris_request(raw))
    assert (response.model_name, response.model_version, response.id) == ("iris", "1", "g-1")
    (output,) = response.outputs
    assert (output.name, output.datatype, list(output.shape)) == ("output-0", "FP32", [2, 3])
    assert bool(response.raw_output_contents) is raw
    assert output.HasField("contents") is not raw
    if raw:
        probabilities = np.frombuffer(response.raw_output_contents[0], dtype="<f4")
    else:
        probabilities = np.array(output.contents.fp32_contents)
    assert probabilities.reshape(2, 3).argmax(axis=1).tolist() == IRIS_CLASSES


async def test_named_versions(channel: grpc.aio.Channel) -> None:
    stub = Stub(channel)
    for version, expected in [("", "10"), ("2", "2")]:
        request = pb.ModelInferRequest(model_name="versioned", model_version=version)
        request.inputs.add(
            name="input-0", datatype="FP32", shape=[1, 1]
        ).contents.fp32_contents.append(1)
        assert (await stub.ModelInfer(request)).model_version == expected


async def test_fp16_travels_raw(channel: grpc.aio.Channel) -> None:
    values = np.array([0.5, -2.0, 65504.0], dtype="<f2")
    request = pb.ModelInferRequest(model_name="echo")
    request.inputs.add(name="h", datatype="FP16", shape=[3])
    request.raw_input_contents.append(values.tobytes())
    response = await Stub(channel).ModelInfer(request)
    assert response.outputs[0].datatype == "FP16"
    assert np.frombuffer(response.raw_output_contents[0], dtype="<f2").tolist() == values.tolist()


async def test_typed_bytes_and_bools(channel: grpc.aio.Channel) -> None:
    request = pb.ModelInferRequest(model_name="echo")
    request.inputs.add(name="s", datatype="BYTES", shape=[2]).contents.bytes_contents.extend(
        [b"\x00\xff", b"text"]
    )
    request.inputs.add(name="b", datatype="BOOL", shape=[2]).contents.bool_contents.extend(
        [True, False]
    )
    response = await Stub(channel).ModelInfer(request)
    strings, bools = response.outputs
    assert list(strings.contents.bytes_contents) == [b"\x00\xff", b"text"]
    assert list(bools.contents.bool_contents) == [True, False]


async def test_typed_fp32_infinities_are_values(channel: grpc.aio.Channel) -> None:
    """An infinity is an FP32 value (it was refused as out of range); a finite value that
    would round to one still is refused."""
    request = pb.ModelInferRequest(model_name="echo")
    request.inputs.add(name="f", datatype="FP32", shape=[3]).contents.fp32_contents.extend(
        [math.inf, -math.inf, 1.5]
    )
    response = await Stub(channel).ModelInfer(request)
    assert list(response.outputs[0].contents.fp32_contents) == [math.inf, -math.inf, 1.5]
    request = pb.ModelInferRequest(model_name="echo")
    request.inputs.add(name="f", datatype="FP16", shape=[2])
    request.raw_input_contents.append(np.array([np.inf, 1.0], "<f2").tobytes())
    response = await Stub(channel).ModelInfer(request)
    assert np.frombuffer(response.raw_output_contents[0], "<f2").tolist() == [math.inf, 1.0]


async def test_parameters_and_requested_outputs(channel: grpc.aio.Channel) -> None:
    request = pb.ModelInferRequest(model_name="params", id="p-1")
    request.parameters["temperature"].double_param = 0.5
    request.parameters["mode"].string_param = "fast"
    request.parameters["on"].bool_param = True
    request.parameters["n"].int64_param = 3
    for name in "ab":
        request.inputs.add(name=name, datatype="INT32", shape=[1]).contents.int_contents.append(1)
    request.outputs.add(name="b")
    response = await Stub(channel).ModelInfer(request)
    assert response.id == "p-1"
    assert [o.name for o in response.outputs] == ["b"]
    got = {k: getattr(v, v.WhichOneof("parameter_choice")) for k, v in response.parameters.items()}
    assert got == {"temperature": 0.5, "mode": "fast", "on": True, "n": 3}


async def test_a_failed_model_is_unavailable_with_its_reason(broken_server: Server) -> None:
    reason = "model 'bad' version '1' is unavailable: FileNotFoundError: weights.bin is missing"
    async with grpc.aio.insecure_channel(f"127.0.0.1:{broken_server.grpc_port}") as channel:
        stub = Stub(channel)
        assert not (await stub.ServerReady(pb.ServerReadyRequest())).ready
        assert (await stub.ServerLive(pb.ServerLiveRequest())).live
        assert not (await stub.ModelReady(pb.ModelReadyRequest(name="bad"))).ready
        assert (await stub.ModelReady(pb.ModelReadyRequest(name="good"))).ready
        request = pb.ModelInferRequest(model_name="bad")
        request.inputs.add(name="x", datatype="FP32", shape=[1]).contents.fp32_contents.append(1)
        for call in (
            stub.ModelMetadata(pb.ModelMetadataRequest(name="bad")),
            stub.ModelInfer(request),
        ):
            error = await _failure(call)
            assert (error.code(), error.details()) == (grpc.StatusCode.UNAVAILABLE, reason)
        request.model_name = "good"
        assert (await stub.ModelInfer(request)).outputs[0].name == "x"


def _raw_request(model: str, *arrays: tuple[str, str, np.ndarray]) -> pb.ModelInferRequest:
    request = pb.ModelInferRequest(model_name=model, id="lane-1")
    for name, datatype, array in arrays:
        request.inputs.add(name=name, datatype=datatype, shape=list(array.shape))
        request.raw_input_contents.append(array_to_raw(array, Datatype(datatype)))
    return request


LANE_REQUESTS = {
    "iris": _raw_request("iris", ("input-0", "FP32", IRIS_ROWS)),
    "echo": _raw_request(
        "echo",
        ("h", "FP16", np.array([[0.5, -2.0]], np.float16)),
        ("b", "BOOL", np.array([True, False])),
        ("s", "BYTES", np.array([b"\x00\xff", b"text"], dtype=object)),
        ("n", "INT64", np.array([-(2**62), 7], np.int64)),
    ),
    "sync-echo": _raw_request("sync-echo", ("u", "UINT8", np.arange(6, dtype=np.uint8))),
    "scale": _raw_request("scale", ("input-0", "FP32", np.ones((3, 2), np.float32))),
    "failing": _raw_request("failing", ("x", "FP32", np.ones(1, np.float32))),
    "wrong-output": _raw_request("wrong-output", ("x", "FP32", np.ones(1, np.float32))),
    "iris, a wrong shape": _raw_request("iris", ("input-0", "FP32", np.ones((1, 5), np.float32))),
    "iris, a wrong datatype": _raw_request("iris", ("input-0", "FP64", IRIS_ROWS.astype("<f8"))),
    "iris, an extra input": _raw_request(
        "iris", ("input-0", "FP32", IRIS_ROWS), ("more", "FP32", IRIS_ROWS)
    ),
    "no such model": _raw_request("nope", ("x", "FP32", np.ones(1, np.float32))),
}


async def _outcome(stub: Stub, request: pb.ModelInferRequest) -> tuple[object, dict[str, object]]:
    """The answer (or error status and message) and the trailing metadata."""
    metadata = (("x-tenant", "t-1"),)
    call = stub.ModelInfer(request, metadata=metadata)
    try:
        answer: object = (await call).SerializeToString()
    except grpc.aio.AioRpcError as error:
        answer = (error.code(), error.details())
    return answer, dict(await call.trailing_metadata())


@pytest.mark.parametrize("case", LANE_REQUESTS)
async def test_the_predict_lane_answers_as_the_general_path(
    channel: grpc.aio.Channel, case: str
) -> None:
    """A plain raw request takes the predict lane; the same request with a parameter no
    model reads takes the general path: both answer the same, errors included."""
    stub = Stub(channel)
    plain = LANE_REQUESTS[case]
    general = pb.ModelInferRequest()
    general.CopyFrom(plain)
    general.parameters["note"].string_param = "take the general path"
    lane_outcome = await _outcome(stub, plain)
    assert lane_outcome == await _outcome(stub, general)
    answer, trailing = lane_outcome
    assert trailing == {"x-request-id": "lane-1", "x-tenant": "t-1"}
    if case in ("iris", "echo", "sync-echo", "scale"):
        assert isinstance(answer, bytes)
        assert pb.ModelInferResponse.FromString(answer).id == "lane-1"
    else:
        assert isinstance(answer, tuple)


async def test_bytes_that_are_no_request_are_invalid_argument_and_the_server_stays(
    channel: grpc.aio.Channel,
) -> None:
    send_bytes: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(
        "/inference.GRPCInferenceService/ModelInfer"
    )
    for broken in (b"\x0a\x05ab", b"\x3a\xff\xff", b"\x0b"):
        error = await _failure(send_bytes(broken))
        assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert "the request is not a ModelInferRequest" in (error.details() or "")
    answer = await Stub(channel).ModelInfer(_iris_request(raw=True))
    assert answer.model_name == "iris"


_RPCS = ("ServerLive", "ModelReady", "ModelMetadata", "ModelConfig", "ModelStatistics")


@pytest.mark.parametrize(
    ("method", "message"),
    [
        *((f"inference.GRPCInferenceService/{name}", f"{name}Request") for name in _RPCS),
        ("inference.GRPCInferenceService/RepositoryModelLoad", "RepositoryModelLoadRequest"),
        ("grpc.health.v1.Health/Check", "HealthCheckRequest"),
    ],
)
async def test_bytes_that_are_no_message_are_invalid_argument_on_every_rpc(
    channel: grpc.aio.Channel, method: str, message: str
) -> None:
    send_bytes: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(f"/{method}")
    error = await _failure(send_bytes(b"\xff\xff\xff"))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert (error.details() or "").startswith(f"the request is not a {message}: Error parsing")
    assert (await Stub(channel).ServerLive(pb.ServerLiveRequest())).live


async def test_bytes_that_are_no_message_end_the_streams_with_invalid_argument(
    channel: grpc.aio.Channel,
) -> None:
    watch: grpc.aio.UnaryStreamMultiCallable[bytes, bytes] = channel.unary_stream(
        "/grpc.health.v1.Health/Watch"
    )
    with pytest.raises(grpc.aio.AioRpcError) as watched:
        async for _ in watch(b"\xff\xff\xff"):
            pass
    assert watched.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "the request is not a HealthCheckRequest" in (watched.value.details() or "")
    reflect: grpc.aio.StreamStreamMultiCallable[bytes, bytes] = channel.stream_stream(
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
    )
    with pytest.raises(grpc.aio.AioRpcError) as reflected:
        async for _ in reflect(iter([b"\xff\xff\xff"])):
            pass
    assert reflected.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "the request is not a ServerReflectionRequest" in (reflected.value.details() or "")


async def test_an_error_naming_a_huge_name_is_cut_to_fit_grpc_metadata(
    channel: grpc.aio.Channel,
) -> None:
    request = _iris_request(raw=True)
    request.model_name = "m" * 100_000
    error = await _failure(Stub(channel).ModelInfer(request))
    assert error.code() is grpc.StatusCode.NOT_FOUND
    details = error.details() or ""
    assert details == "model '" + "m" * (2048 - 7) + "..."  # 2048 characters, then cut
