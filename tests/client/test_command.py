"""`oipserve infer`, end to end: the command in a subprocess against the real server."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest

from app.server import Server
from tests.payloads import IRIS_ROWS
from tests.process import oipserve as run_app


async def oipserve(*args: str) -> tuple[int, str, str]:
    return await run_app("infer", *args)


async def test_rest_with_a_npy_file_prints_a_table(server: Server, tmp_path: Path) -> None:
    rows = tmp_path / "rows.npy"
    np.save(rows, IRIS_ROWS)
    url = f"http://127.0.0.1:{server.http_port}"
    code, out, err = await oipserve(url, "iris", "--input", f"input-0={rows}", "--id", "cli-1")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:2] == ["model iris version 1", "request id cli-1"]
    assert lines[2].startswith("latency ")
    assert lines[2].endswith(" ms")
    assert lines[4].split() == ["output", "datatype", "shape", "data"]
    assert lines[5].startswith("output-0  FP32      [2, 3]  [[")


async def test_grpc_with_json_prints_json(server: Server, tmp_path: Path) -> None:
    source = tmp_path / "rows.json"
    source.write_bytes(orjson.dumps(IRIS_ROWS.tolist()))  # floats: FP32 from the metadata
    url = f"127.0.0.1:{server.grpc_port}"
    code, out, err = await oipserve(url, "iris", "-i", f"input-0={source}", "--json")
    assert code == 0, err
    shown = orjson.loads(out)
    assert (shown["model_name"], shown["model_version"]) == ("iris", "1")
    assert shown["latency_ms"] > 0
    assert len(shown["id"]) == 36  # a fresh UUID
    (output,) = shown["outputs"]
    assert (output["name"], output["datatype"], output["shape"]) == ("output-0", "FP32", [2, 3])
    assert np.argmax(output["data"], axis=1).tolist() == [0, 2]


async def test_inline_json_several_inputs_and_outputs(server: Server) -> None:
    url = f"grpc://127.0.0.1:{server.grpc_port}"
    code, out, err = await oipserve(
        url,
        "echo",
        "-i",
        'a={"datatype": "BYTES", "shape": [2], "data": ["hi", "there"]}',
        "-i",
        "b=[[1, 2, 3]]",
        "-o",
        "b",
        "-o",
        "a",
        "--json",
    )
    assert code == 0, err
    outputs = orjson.loads(out)["outputs"]
    assert outputs == [
        {"name": "b", "datatype": "INT64", "shape": [1, 3], "data": [[1, 2, 3]]},
        {"name": "a", "datatype": "BYTES", "shape": [2], "data": ["hi", "there"]},
    ]


async def test_json_values_are_read_as_their_datatype(server: Server) -> None:
    """Not through a float64 array: the largest UINT64 stays exact."""
    url = f"http://127.0.0.1:{server.http_port}"
    big = 18446744073709551615
    given = orjson.dumps({"datatype": "UINT64", "data": [1, big]}).decode()
    code, out, err = await oipserve(url, "echo", "-i", f"x={given}", "--json")
    assert code == 0, err
    assert orjson.loads(out)["outputs"] == [
        {"name": "x", "datatype": "UINT64", "shape": [2], "data": [1, big]}
    ]
    code, _, err = await oipserve(url, "echo", "-i", 'x={"datatype": "UINT64", "data": [-1]}')
    assert code == 1
    assert "InvalidInput: tensor 'x': values from -1 to -1 are out of range for UINT64" in err


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["nope", "-i", "x=[1]"], 1, "ModelNotFound: model 'nope' not found"),
        (["iris", "-i", "input-0=[1, 2]"], 1, "InvalidInput: input 'input-0'"),
        (["iris", "-i", "input-0"], 2, "--input takes NAME=FILE.npy"),
        (["iris", "-i", "input-0=missing.npy"], 2, "missing.npy"),
        (["iris", "-i", "input-0={not json"], 2, "is not a .npy file, a .json file or JSON"),
    ],
)
async def test_errors_are_reported_with_an_exit_code(
    server: Server, args: list[str], code: int, message: str
) -> None:
    url = f"http://127.0.0.1:{server.http_port}"
    exit_code, _, err = await oipserve(url, *args)
    assert exit_code == code
    assert message in err


async def test_options_may_come_between_the_url_and_the_model(server: Server) -> None:
    url = f"http://127.0.0.1:{server.http_port}"
    row = "input-0=[[5.1, 3.5, 1.4, 0.2]]"
    code, out, err = await oipserve(url, "--id", "between", "iris", "-i", row)
    assert code == 0, err
    assert out.splitlines()[:2] == ["model iris version 1", "request id between"]
