"""The repository, statistics and configuration extensions through the DataPlane."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.dataplane import EXTENSIONS, DataPlane
from app.model_config import config_data_type
from app.protocol.codecs.datatypes import Datatype
from app.protocol.errors import ModelNotFound, ModelNotReady, Unsupported
from app.protocol.types import (
    InferenceRequest,
    RepositoryIndexRequest,
    RepositoryModelRequest,
    RequestInput,
)
from app.resolver import target_of
from tests.planes import dataplane_over, infer
from tests.repo import add_model, tensor

SIGNATURE: dict[str, Any] = {
    "inputs": [tensor("input-0", "FP32", [-1, 4]), tensor("text", "BYTES", [-1])],
    "outputs": [tensor("output-0", "INT64", [-1, 3])],
}


@pytest.fixture
async def plane(tmp_path: Path) -> AsyncIterator[DataPlane]:
    add_model(tmp_path, "plain", "tests.toys:Echo", platform="numpy", **SIGNATURE)
    add_model(
        tmp_path,
        "batched",
        "tests.toys:Shaped",  # answers output-0 as declared
        versions=["1", "2"],
        max_batch_size=16,
        parameters={
            "labels": "a,b",
            "k": 3,
            "output": "output-0",
            "dtype": "int64",
            "shape": [2, 3],
        },
        **SIGNATURE,
    )
    add_model(tmp_path, "bad", "tests.toys:BadLoad")
    add_model(tmp_path, "later", "tests.toys:Echo")
    async with dataplane_over(tmp_path, ["plain", "batched", "bad"]) as dataplane:
        yield dataplane


async def test_server_metadata_advertises_the_extensions(plane: DataPlane) -> None:
    metadata = await plane.server_metadata()
    assert metadata.extensions == EXTENSIONS
    assert {"model_repository", "statistics", "model_configuration"} <= set(EXTENSIONS)


async def test_config_of_an_unbatched_model_keeps_full_dims(plane: DataPlane) -> None:
    config = await plane.model_config("plain")
    assert config.model_dump() == {
        "name": "plain",
        "platform": "numpy",
        "backend": "oipserve",
        "max_batch_size": 0,
        "input": [
            {"name": "input-0", "data_type": "TYPE_FP32", "dims": [-1, 4]},
            {"name": "text", "data_type": "TYPE_STRING", "dims": [-1]},
        ],
        "output": [{"name": "output-0", "data_type": "TYPE_INT64", "dims": [-1, 3]}],
        "parameters": {},
    }


async def test_config_of_a_batched_model_drops_the_batch_dimension(plane: DataPlane) -> None:
    config = await plane.model_config("batched", "1")
    assert config.max_batch_size == 16
    assert [t.dims for t in config.input] == [[4], []]
    assert config.parameters["labels"].string_value == "a,b"
    assert config.parameters["k"].string_value == "3"


async def test_config_errors_name_the_problem(plane: DataPlane) -> None:
    with pytest.raises(ModelNotFound, match="has no version '9'"):
        await plane.model_config("batched", "9")
    with pytest.raises(ModelNotReady, match=r"weights\.bin is missing"):
        await plane.model_config("bad")


def test_config_data_types_follow_triton() -> None:
    assert config_data_type(Datatype.BYTES) == "TYPE_STRING"
    assert config_data_type(Datatype.UINT16) == "TYPE_UINT16"


async def test_statistics_cover_ready_versions(plane: DataPlane) -> None:
    data = np.ones((2, 4), dtype=np.float32)
    text = np.array([b"x", b"y"], dtype=object)
    request = InferenceRequest(
        inputs=[
            RequestInput(name="input-0", shape=[2, 4], datatype="FP32", data=data),
            RequestInput(name="text", shape=[2], datatype="BYTES", data=text),
        ]
    )
    await infer(plane, "batched", request)
    every = await plane.model_statistics()
    assert [(s.name, s.version) for s in every.model_stats] == [
        ("batched", "1"),
        ("batched", "2"),
        ("plain", "1"),
    ]
    (two,) = (await plane.model_statistics("batched", "2")).model_stats
    assert (two.inference_count, two.execution_count) == (2, 1)
    assert two.inference_stats.success.count == 1
    assert two.inference_stats.compute_infer.ns > 0
    assert len((await plane.model_statistics("batched")).model_stats) == 2
    with pytest.raises(ModelNotReady, match="'bad' has no ready version"):
        await plane.model_statistics("bad")
    with pytest.raises(ModelNotFound):
        await plane.model_statistics("nope")


async def test_index_lists_loaded_failed_and_unloaded_models(plane: DataPlane) -> None:
    index = await plane.repository_index(RepositoryIndexRequest())
    rows = [(m.name, m.version, m.state, m.reason[:17]) for m in index.models]
    assert rows == [
        ("bad", "1", "UNAVAILABLE", "FileNotFoundError"),
        ("batched", "1", "READY", ""),
        ("batched", "2", "READY", ""),
        ("later", "", "UNAVAILABLE", "not loaded"),
        ("plain", "1", "READY", ""),
    ]
    ready = await plane.repository_index(RepositoryIndexRequest(ready=True))
    assert [m.name for m in ready.models] == ["batched", "batched", "plain"]


async def test_load_and_unload_through_the_dataplane(plane: DataPlane) -> None:
    await plane.repository_load("later", RepositoryModelRequest())
    assert await plane.model_ready(target_of("later"))
    await plane.repository_unload(
        "later", RepositoryModelRequest(parameters={"unload_dependents": True})
    )
    index = await plane.repository_index(RepositoryIndexRequest())
    assert ("later", "unloaded") in [(m.name, m.reason) for m in index.models]


async def test_load_parameters_are_refused(plane: DataPlane) -> None:
    with pytest.raises(Unsupported, match="load parameter 'config' is not supported"):
        await plane.repository_load("later", RepositoryModelRequest(parameters={"config": "{}"}))
    with pytest.raises(Unsupported, match="unload parameter 'x'"):
        await plane.repository_unload("plain", RepositoryModelRequest(parameters={"x": 1}))
