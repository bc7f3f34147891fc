"""The repository, statistics and configuration RPCs against a real grpc.aio server, and
their parity with REST."""

from __future__ import annotations

from pathlib import Path

import grpc
import httpx
import pytest

from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.json_mapping import from_proto, repository_request, to_proto
from app.grpc.service import Stub
from app.protocol.types import ModelConfig, ModelStatisticsResponse, RepositoryIndexResponse
from app.server import Server
from tests.grpc.test_servicer import _iris_request
from tests.repo import add_model


@pytest.fixture
def repository(repository: Path) -> Path:
    add_model(repository, "broken", "tests.toys:BadLoad")
    return repository


async def test_repository_index_load_and_unload(channel: grpc.aio.Channel) -> None:
    stub = Stub(channel)
    index = await stub.RepositoryIndex(pb.RepositoryIndexRequest())
    rows = {(m.name, m.version): (m.state, m.reason) for m in index.models}
    assert rows["iris", "1"] == ("READY", "")
    assert rows["broken", "1"][0] == "UNAVAILABLE"
    ready = await stub.RepositoryIndex(pb.RepositoryIndexRequest(ready=True))
    assert "broken" not in {m.name for m in ready.models}
    unload = pb.RepositoryModelUnloadRequest(model_name="iris")
    unload.parameters["unload_dependents"].bool_param = False
    await stub.RepositoryModelUnload(unload)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ModelInfer(_iris_request(raw=True))
    assert (caught.value.code(), caught.value.details()) == (
        grpc.StatusCode.NOT_FOUND,
        "model 'iris' is unloaded",
    )
    await stub.RepositoryModelLoad(pb.RepositoryModelLoadRequest(model_name="iris"))
    assert (await stub.ModelInfer(_iris_request(raw=True))).model_version == "1"


async def test_statistics_and_config(channel: grpc.aio.Channel) -> None:
    stub = Stub(channel)
    await stub.ModelInfer(_iris_request(raw=True))
    stats = await stub.ModelStatistics(pb.ModelStatisticsRequest(name="iris", version="1"))
    (iris,) = stats.model_stats
    assert (iris.name, iris.version, iris.execution_count) == ("iris", "1", 1)
    assert iris.inference_stats.success.count == 1
    assert iris.inference_stats.compute_infer.ns > 0
    every = await stub.ModelStatistics(pb.ModelStatisticsRequest())
    assert len(every.model_stats) > 1
    config = (await stub.ModelConfig(pb.ModelConfigRequest(name="iris"))).config
    assert (config.name, config.platform, config.max_batch_size) == ("iris", "numpy", 0)
    assert [(t.name, t.data_type, list(t.dims)) for t in config.input] == [
        ("input-0", pb.TYPE_FP32, [-1, 4])
    ]


@pytest.mark.parametrize(
    ("rpc", "request_", "rest"),
    [
        ("RepositoryModelLoad", pb.RepositoryModelLoadRequest(model_name="nope"), "/load"),
        ("RepositoryModelLoad", pb.RepositoryModelLoadRequest(model_name="broken"), "/load"),
        ("RepositoryModelUnload", pb.RepositoryModelUnloadRequest(model_name="nope"), "/unload"),
        ("ModelConfig", pb.ModelConfigRequest(name="iris", version="4"), "config"),
        ("ModelConfig", pb.ModelConfigRequest(name="broken"), "config"),
        ("ModelStatistics", pb.ModelStatisticsRequest(name="nope"), "stats"),
    ],
)
async def test_errors_match_rest(
    server: Server, channel: grpc.aio.Channel, rpc: str, request_: object, rest: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await getattr(Stub(channel), rpc)(request_)
    name = getattr(request_, "model_name", "") or getattr(request_, "name", "")
    version = getattr(request_, "version", "")
    if rest.startswith("/"):
        path, method = f"/v2/repository/models/{name}{rest}", "POST"
    else:
        middle = f"/versions/{version}" if version else ""
        path, method = f"/v2/models/{name}{middle}/{rest}", "GET"
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.http_port}") as client:
        answer = await client.request(method, path)
    assert (
        caught.value.code().name
        == {404: "NOT_FOUND", 500: "INTERNAL", 503: "UNAVAILABLE"}[answer.status_code]
    )
    assert caught.value.details() == answer.json()["error"]


def test_conversions_round_trip() -> None:
    index = RepositoryIndexResponse.model_validate(
        {"models": [{"name": "m", "version": "2", "state": "READY", "reason": ""}]}
    )
    assert from_proto(to_proto(index, pb.RepositoryIndexResponse), RepositoryIndexResponse) == index
    duration = {"count": 3, "ns": 2**40}
    stats = ModelStatisticsResponse.model_validate(
        {
            "model_stats": [
                {
                    "name": "m",
                    "version": "1",
                    "last_inference": 2**41,
                    "inference_stats": dict.fromkeys(
                        [
                            "success",
                            "fail",
                            "queue",
                            "compute_input",
                            "compute_infer",
                            "compute_output",
                            "cache_hit",
                            "cache_miss",
                        ],
                        duration,
                    ),
                }
            ]
        }
    )
    message = to_proto(stats, pb.ModelStatisticsResponse)
    assert message.model_stats[0].inference_stats.fail.ns == 2**40
    assert from_proto(message, ModelStatisticsResponse) == stats
    config = ModelConfig.model_validate(
        {"name": "m", "input": [{"name": "x", "data_type": "TYPE_STRING", "dims": [-1, 2]}]}
    )
    assert from_proto(to_proto(config, pb.ModelConfig), ModelConfig) == config


def test_repository_requests_unwrap_the_parameters() -> None:
    message = pb.RepositoryModelLoadRequest(model_name="m")
    message.parameters["a"].bool_param = True
    message.parameters["b"].int64_param = 3
    message.parameters["c"].string_param = "s"
    assert repository_request(message).parameters == {"a": True, "b": 3, "c": "s"}
    assert repository_request(pb.RepositoryModelUnloadRequest()).parameters is None
