"""POST .../infer through the direct route, in process: the binary tensor data extension in
both directions, its malformed cases, and the request body limit."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import pytest

from tests.repo import add_model

HEADER_LENGTH = "Inference-Header-Content-Length"


@pytest.fixture(autouse=True)
def _flags_model(repository: Path) -> None:
    add_model(repository, "flags", "tests.toys:BufferFlags")


def binary_request(header: dict[str, Any], *tensors: bytes) -> dict[str, Any]:
    """httpx arguments for a JSON header followed by raw tensors."""
    head = orjson.dumps(header)
    return {
        "content": head + b"".join(tensors),
        "headers": {HEADER_LENGTH: str(len(head)), "Content-Type": "application/octet-stream"},
    }


def split_answer(answer: httpx.Response) -> tuple[dict[str, Any], bytes]:
    """The JSON header and the binary section of an answer."""
    length = int(answer.headers[HEADER_LENGTH])
    header: dict[str, Any] = orjson.loads(answer.content[:length])
    return header, answer.content[length:]


def bytes_elements(*items: bytes) -> bytes:
    """BYTES elements on the wire: each a 4-byte little-endian length, then the bytes."""
    return b"".join(struct.pack("<I", len(item)) + item for item in items)


def raw_input(name: str, datatype: str, shape: list[int], raw: bytes) -> dict[str, Any]:
    return {
        "name": name,
        "datatype": datatype,
        "shape": shape,
        "parameters": {"binary_data_size": len(raw)},
    }


RAW_CASES = [
    ("FP32", [2, 3], np.arange(6, dtype="<f4").reshape(2, 3).tobytes()),
    ("FP16", [4], np.array([0.5, -1, 2, 65504], dtype="<f2").tobytes()),
    ("INT64", [3], np.array([-(2**62), 0, 2**62], dtype="<i8").tobytes()),
    ("UINT8", [2, 2], bytes([0, 1, 254, 255])),
    ("BOOL", [3], bytes([1, 0, 1])),
    ("BYTES", [2], bytes_elements(b"caf\xc3\xa9", b"\x00\xff binary")),
    ("BYTES", [0], b""),
    ("FP32", [0, 3], b""),
]


@pytest.mark.parametrize(("datatype", "shape", "raw"), RAW_CASES)
async def test_binary_input_comes_back_as_binary_output(
    rest: httpx.AsyncClient, datatype: str, shape: list[int], raw: bytes
) -> None:
    header = {
        "inputs": [raw_input("x", datatype, shape, raw)],
        "parameters": {"binary_data_output": True},
    }
    answer = await rest.post("/v2/models/echo/infer", **binary_request(header, raw))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/octet-stream"
    head, binary = split_answer(answer)
    (output,) = head["outputs"]
    assert output == {
        "name": "x",
        "datatype": datatype,
        "shape": shape,
        "parameters": {"binary_data_size": len(raw)},
    }
    assert binary == raw


async def test_binary_inputs_answer_json_unless_asked(rest: httpx.AsyncClient) -> None:
    flags, words = bytes([1, 0]), bytes_elements(b"yes", b"no")
    header = {
        "inputs": [raw_input("flags", "BOOL", [2], flags), raw_input("words", "BYTES", [2], words)]
    }
    answer = await rest.post("/v2/models/echo/infer", **binary_request(header, flags, words))
    assert answer.status_code == 200, answer.text
    assert HEADER_LENGTH.lower() not in answer.headers
    outputs = {output["name"]: output for output in answer.json()["outputs"]}
    assert outputs["flags"]["data"] == [True, False]
    assert outputs["words"]["data"] == ["yes", "no"]


async def test_binary_data_per_output_overrides_the_request_default(
    rest: httpx.AsyncClient,
) -> None:
    request = {
        "inputs": [
            {"name": "a", "datatype": "INT32", "shape": [2], "data": [1, 2]},
            {"name": "b", "datatype": "INT32", "shape": [2], "data": [3, 4]},
        ],
        "outputs": [
            {"name": "a", "parameters": {"binary_data": False}},
            {"name": "b"},
        ],
        "parameters": {"binary_data_output": True},
    }
    answer = await rest.post("/v2/models/echo/infer", json=request)
    assert answer.status_code == 200, answer.text
    head, binary = split_answer(answer)
    a, b = head["outputs"]
    assert a["data"] == [1, 2]
    assert b["parameters"] == {"binary_data_size": 8}
    assert np.frombuffer(binary, dtype="<i4").tolist() == [3, 4]


async def test_binary_inputs_are_arrays_over_the_body_without_copies(
    rest: httpx.AsyncClient,
) -> None:
    raw = np.ones(4, dtype="<f4").tobytes()
    header = {"inputs": [raw_input("x", "FP32", [4], raw)]}
    answer = await rest.post("/v2/models/flags/infer", **binary_request(header, raw))
    assert answer.status_code == 200, answer.text
    owns_data, writeable = answer.json()["outputs"][0]["data"]
    assert not owns_data
    assert not writeable


async def test_server_metadata_advertises_binary_tensor_data(rest: httpx.AsyncClient) -> None:
    assert "binary_tensor_data" in (await rest.get("/v2")).json()["extensions"]


FP32_4 = np.arange(4, dtype="<f4").tobytes()
TWO_WORDS = bytes_elements(b"ab", b"cd")


def _one_input(datatype: str, shape: list[int], size: object) -> dict[str, Any]:
    tensor = {"name": "x", "datatype": datatype, "shape": shape}
    return {"inputs": [{**tensor, "parameters": {"binary_data_size": size}}]}


FP32_BODY = orjson.dumps(_one_input("FP32", [4], 16)) + FP32_4
BOTH = {"name": "x", "datatype": "FP32", "shape": [4], "data": [1, 2, 3, 4]}
# (case, Inference-Header-Content-Length or None for the JSON part's length, body, message)
MALFORMED_CASES: list[tuple[str, str | None, bytes, str]] = [
    (
        "non-numeric header",
        "twelve",
        FP32_BODY,
        "Inference-Header-Content-Length must be an integer >= 0, got 'twelve'",
    ),
    (
        "negative header",
        "-3",
        FP32_BODY,
        "Inference-Header-Content-Length must be an integer >= 0, got '-3'",
    ),
    (
        "header length beyond the body",
        "100000",
        FP32_BODY,
        "Inference-Header-Content-Length 100000 exceeds the body's",
    ),
    ("header length inside the JSON", "10", FP32_BODY, "malformed JSON"),
    (
        "size beyond the data",
        None,
        orjson.dumps(_one_input("FP32", [4], 32)) + FP32_4,
        "input 'x': binary_data_size 32 runs past the binary data (16 bytes left)",
    ),
    (
        "bytes left over",
        None,
        FP32_BODY + b"tail",
        "body has 4 bytes of binary data that no tensor claims",
    ),
    (
        "size does not match the shape",
        None,
        orjson.dumps(_one_input("FP32", [2], 16)) + FP32_4,
        "input 'x': 16 bytes of raw data do not match shape [2] of FP32 (8 bytes)",
    ),
    (
        "size not an integer",
        None,
        orjson.dumps(_one_input("FP32", [4], "16")) + FP32_4,
        "input 'x': binary_data_size must be an integer >= 0, got '16'",
    ),
    (
        "data and binary data",
        None,
        orjson.dumps({"inputs": [{**BOTH, "parameters": {"binary_data_size": 16}}]}) + FP32_4,
        "input 'x': has both 'data' and binary_data_size",
    ),
    (
        "BYTES element past the end",
        None,
        orjson.dumps(_one_input("BYTES", [2], 11)) + TWO_WORDS[:11],
        "input 'x': BYTES element of 2 bytes runs past the data",
    ),
    (
        "BYTES cut inside a length prefix",
        None,
        orjson.dumps(_one_input("BYTES", [2], 7)) + TWO_WORDS[:7],
        "input 'x': BYTES data ends inside an element's length prefix",
    ),
    (
        "too few BYTES elements",
        None,
        orjson.dumps(_one_input("BYTES", [3], len(TWO_WORDS))) + TWO_WORDS,
        "input 'x': raw data holds 2 BYTES elements, shape needs 3",
    ),
]
MALFORMED = [pytest.param(*case[1:], id=case[0]) for case in MALFORMED_CASES]


@pytest.mark.parametrize(("header_length", "body", "message"), MALFORMED)
async def test_malformed_binary_requests_are_400s(
    rest: httpx.AsyncClient, header_length: str | None, body: bytes, message: str
) -> None:
    if header_length is None:  # the length of the JSON part, as a client would send it
        header_length = str(body.index(b"}]}") + 3)
    headers = {HEADER_LENGTH: header_length}
    answer = await rest.post("/v2/models/echo/infer", content=body, headers=headers)
    assert answer.status_code == 400
    assert message in answer.json()["error"]
    assert (await rest.get("/v2/health/ready")).status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/v2/models/{model_name}/infer", "/v2/models/{model_name}/versions/{model_version}/infer"],
)
async def test_the_direct_route_keeps_its_documentation(rest: httpx.AsyncClient, path: str) -> None:
    openapi = (await rest.get("/openapi.json")).json()
    operation = openapi["paths"][path]["post"]
    body = operation["requestBody"]["content"]
    assert body["application/json"]["schema"] == {"$ref": "#/components/schemas/InferenceRequest"}
    assert "application/octet-stream" in body
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/InferenceResponse"}
    assert {"400", "404", "413", "503"} <= set(operation["responses"])
    assert "data" in openapi["components"]["schemas"]["RequestInput"]["properties"]


async def test_the_direct_route_reads_the_version_from_the_path(rest: httpx.AsyncClient) -> None:
    request = {"inputs": [{"name": "input-0", "datatype": "FP32", "shape": [1, 1], "data": [1]}]}
    answer = await rest.post("/v2/models/versioned/versions/2/infer", json=request)
    assert answer.status_code == 200, answer.text
    assert answer.json()["model_version"] == "2"
    missing = await rest.post("/v2/models/versioned/versions/7/infer", json=request)
    assert missing.status_code == 404
    assert "has no version '7'" in missing.json()["error"]


async def test_other_methods_on_the_inference_path_are_405s(rest: httpx.AsyncClient) -> None:
    answer = await rest.get("/v2/models/echo/infer")
    assert answer.status_code == 405
    assert answer.json() == {"error": "Method Not Allowed"}


@pytest.mark.parametrize("datatype", ["FP16", "FP32", "FP64"])
async def test_null_is_nan_both_ways(rest: httpx.AsyncClient, datatype: str) -> None:
    """JSON has no NaN: a float tensor's null reads as NaN, and NaN writes as null (README)."""
    tensor = {"name": "x", "datatype": datatype, "shape": [2], "data": [None, 1.5]}
    answer = await rest.post("/v2/models/echo/infer", json={"inputs": [tensor]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["outputs"][0]["data"] == [None, 1.5]


def _json_input(name: str, datatype: str, shape: list[int], data: list[Any]) -> dict[str, Any]:
    return {"name": name, "datatype": datatype, "shape": shape, "data": data}


ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]
LANE_REQUESTS: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "iris": ("iris", [_json_input("input-0", "FP32", [2, 4], ROWS)]),
    "echo": (
        "echo",
        [
            _json_input("h", "FP16", [1, 2], [0.5, -2.0]),
            _json_input("b", "BOOL", [2], [True, False]),
            _json_input("s", "BYTES", [2], ["a", "é"]),
            _json_input("n", "INT64", [2], [-(2**62), 7]),
        ],
    ),
    "sync-echo": ("sync-echo", [_json_input("u", "UINT8", [2, 3], [0, 1, 2, 3, 4, 255])]),
    "scale": ("scale", [_json_input("input-0", "FP32", [3, 1], [1, 2, 3])]),
    "failing": ("failing", [_json_input("x", "FP32", [1], [1])]),
    "picky": ("picky", [_json_input("x", "FP32", [1], [1])]),
    "wrong-output": ("wrong-output", [_json_input("x", "FP32", [1], [1])]),
    "iris, a wrong shape": ("iris", [_json_input("input-0", "FP32", [1, 2], [1, 2])]),
    "iris, a wrong datatype": ("iris", [_json_input("input-0", "FP64", [2, 4], ROWS)]),
    "iris, an extra input": (
        "iris",
        [_json_input("input-0", "FP32", [2, 4], ROWS), _json_input("more", "FP32", [1], [1])],
    ),
    "no such model": ("nope", [_json_input("x", "FP32", [1], [1])]),
}


async def _outcome(
    rest: httpx.AsyncClient, model: str, body: dict[str, Any]
) -> tuple[int, Any, dict[str, str]]:
    headers = {"x-request-id": "lane-1", "x-tenant": "t-1"}
    answer = await rest.post(f"/v2/models/{model}/infer", json=body, headers=headers)
    echoed = {k: v for k, v in answer.headers.items() if k.startswith("x-")}
    return answer.status_code, answer.json(), echoed


@pytest.mark.parametrize("case", LANE_REQUESTS)
async def test_the_predict_lane_answers_as_the_general_path(
    rest: httpx.AsyncClient, case: str
) -> None:
    """A plain JSON request takes the predict lane; the same request with a parameter no
    model reads takes the general path: both answer the same, errors included."""
    model, inputs = LANE_REQUESTS[case]
    lane = await _outcome(rest, model, {"id": "body-1", "inputs": inputs})
    general = await _outcome(
        rest, model, {"id": "body-1", "inputs": inputs, "parameters": {"note": "general"}}
    )
    assert lane == general
    status, body, echoed = lane
    assert echoed == {"x-request-id": "lane-1", "x-tenant": "t-1"}
    if case in ("iris", "echo", "sync-echo", "scale"):
        assert status == 200
        assert body["id"] == "lane-1"
    else:
        assert status in (400, 404, 500)
        assert set(body) == {"error"}


async def test_the_bundled_argmax_refuses_rows_of_no_classes(served: httpx.AsyncClient) -> None:
    empty = {"name": "probabilities", "shape": [1, 0], "datatype": "FP32", "data": []}
    answer = await served.post("/v2/models/argmax/infer", json={"inputs": [empty]})
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "'probabilities' of shape [1, 0] has no classes"},
    )
    rows = {"name": "probabilities", "shape": [2, 2], "datatype": "FP32", "data": [0, 1, 1, 0]}
    answer = await served.post("/v2/models/argmax/infer", json={"inputs": [rows]})
    assert answer.json()["outputs"][0]["data"] == [1, 0]
