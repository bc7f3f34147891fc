"""The KServe v1 protocol over REST: liveness, the model list, readiness (503 when not
ready), `:predict` with instances (rows, objects per row, v2 tensors) answering predictions
equal to v2's, `:explain`, and a 400 naming the problem for each malformed body; the
project's REST client with protocol="v1" against it."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import numpy as np
import orjson
import pytest

from app.client import InferenceRESTClient, InferInput, InferRequest, RESTConfig
from app.protocol.errors import ModelNotFound
from app.server import Server
from tests.payloads import IRIS_CLASSES, IRIS_ROWS, iris_request
from tests.repo import IRIS, add_model, tensor

ROWS = IRIS_ROWS.tolist()


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    repo = tmp_path / "models"
    for bundled in ("iris", "argmax", "iris-explainer"):
        shutil.copytree(IRIS.parent / bundled, repo / bundled)
    add_model(
        repo,
        "pair",
        "tests.toys:Echo",
        inputs=[tensor("a", "INT64", [-1]), tensor("b", "FP32", [-1, 2])],
        outputs=[tensor("a", "INT64", [-1]), tensor("b", "FP32", [-1, 2])],
    )
    add_model(repo, "words", "tests.toys:Echo")
    add_model(
        repo,
        "floats",
        "tests.toys:Echo",
        inputs=[tensor("b", "FP32", [-1, 2])],
        outputs=[tensor("b", "FP32", [-1, 2])],
    )
    add_model(repo, "fixed-bytes", "tests.toys:Shaped", parameters={"dtype": "S3", "fill": "abc"})
    return repo


async def test_liveness_models_and_readiness(served: httpx.AsyncClient) -> None:
    assert (await served.get("/")).json() == {"status": "alive"}
    listed = await served.get("/v1/models")
    assert listed.json() == {
        "models": ["argmax", "fixed-bytes", "floats", "iris", "iris-explainer", "pair", "words"]
    }
    ready = await served.get("/v1/models/iris")
    assert (ready.status_code, ready.json()) == (200, {"name": "iris", "ready": True})
    unknown = await served.get("/v1/models/nope")
    assert (unknown.status_code, unknown.json()) == (404, {"error": "model 'nope' not found"})
    assert (await served.post("/v2/repository/models/argmax/unload")).status_code == 200
    unloaded = await served.get("/v1/models/argmax")
    assert (unloaded.status_code, unloaded.json()) == (
        503,
        {"error": "model 'argmax' is not ready"},
    )


async def test_predict_answers_what_v2_does(served: httpx.AsyncClient) -> None:
    v2 = (await served.post("/v2/models/iris/infer", json=iris_request())).json()
    expected = np.array(v2["outputs"][0]["data"]).reshape(2, 3)
    for body in ({"instances": ROWS}, {"inputs": ROWS}, iris_request()):
        answer = await served.post(
            "/v1/models/iris:predict", json=body, headers={"x-request-id": "v1-a"}
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["x-request-id"] == "v1-a"
        predictions = np.array(answer.json()["predictions"])
        np.testing.assert_allclose(predictions, expected, rtol=1e-6)
        assert predictions.argmax(axis=1).tolist() == IRIS_CLASSES


async def test_bytes_answered_as_a_numpy_bytes_array(served: httpx.AsyncClient) -> None:
    answer = await served.post("/v1/models/fixed-bytes:predict", json={"instances": [1]})
    assert (answer.status_code, answer.json()) == (
        200,
        {"predictions": [["abc", "abc"], ["abc", "abc"], ["abc", "abc"]]},
    )


async def test_objects_per_row_feed_several_inputs(served: httpx.AsyncClient) -> None:
    body = {"instances": [{"a": 1, "b": [0.5, 1.5]}, {"a": 2, "b": [2.5, 3.5]}]}
    answer = await served.post("/v1/models/pair:predict", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"predictions": body["instances"]}


async def test_null_in_a_declared_float_input_is_nan_as_in_v2(served: httpx.AsyncClient) -> None:
    """v1 answers write NaN as null, as v2 does; a null read back is NaN again (it was a 400,
    "mix kinds"). A value of the wrong kind is still refused."""
    body = {"instances": [{"a": 1, "b": [None, 1.5]}]}
    answer = await served.post("/v1/models/pair:predict", json=body)
    assert answer.json() == {"predictions": body["instances"]}
    wrong = await served.post(
        "/v1/models/pair:predict", json={"instances": [{"a": 1, "b": ["x", 1.5]}]}
    )
    assert wrong.json() == {"error": "input 'b': datatype FP32 expects numbers in data"}


async def test_instances_of_an_undeclared_input_keep_their_kind(served: httpx.AsyncClient) -> None:
    answer = await served.post("/v1/models/words:predict", json={"instances": ["a", "bc"]})
    assert answer.json() == {"predictions": ["a", "bc"]}
    answer = await served.post("/v1/models/words:predict", json={"instances": [[1, 2], [3, 4]]})
    assert answer.json() == {"predictions": [[1, 2], [3, 4]]}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"[1", 400, "malformed JSON: unexpected end of data: line 1 column 3 (char 2)"),
        (b"[1]", 400, "the body must be a JSON object, got list"),
        (
            b'{"rows": [1]}',
            400,
            "a v1 request needs a non-empty list under 'instances' (or 'inputs'), got neither",
        ),
        (
            b'{"instances": []}',
            400,
            "a v1 request needs a non-empty list under 'instances' (or 'inputs'), got list "
            "under 'instances'",
        ),
        (
            b'{"instances": [[1, 2, 3, 4], [1, 2]]}',
            400,
            "instances of input 'input-0': the instances are ragged or mix kinds of values",
        ),
        (
            b'{"instances": [["a", "b", "c", "d"]]}',
            400,
            "instances of input 'input-0': datatype FP32 expects numbers in data",
        ),
        (
            b'{"instances": [[1, 2]]}',
            400,
            "input 'input-0': shape [1, 2] does not match [-1, 4] of model 'iris'",
        ),
        (
            orjson.dumps({**iris_request(), "id": "\u2603"}),
            400,
            "the request id must be printable ASCII of at most 1024 characters (it comes back "
            "in the x-request-id header), got '\u2603'",
        ),
    ],
)
async def test_malformed_bodies_are_400_naming_the_problem(
    served: httpx.AsyncClient, body: bytes, status: int, message: str
) -> None:
    answer = await served.post("/v1/models/iris:predict", content=body)
    assert (answer.status_code, answer.json()) == (status, {"error": message})
    assert "x-request-id" in answer.headers
    assert (await served.get("/v1/models/iris")).status_code == 200


async def test_an_object_row_without_an_input_is_400(served: httpx.AsyncClient) -> None:
    body = {"instances": [{"a": 1, "b": [0.5, 1.5]}, {"a": 2}]}
    answer = await served.post("/v1/models/pair:predict", json=body)
    assert answer.json() == {"error": "instances[1] has no 'b': every instance needs each input"}


async def test_explain_answers_the_explainers_json(served: httpx.AsyncClient) -> None:
    answer = await served.post("/v1/models/iris:explain", json={"instances": ROWS})
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-seldon-alibi-type"] == "explanation"
    assert answer.headers["x-seldon-alibi-method"] == "occlusion"
    explanation = answer.json()
    assert explanation["meta"] == {"name": "occlusion", "explainer": "iris-explainer"}
    assert np.array(explanation["data"]["attributions"]).shape == (2, 4, 3)
    missing = await served.post("/v1/models/argmax:explain", json={"instances": [[1.0]]})
    assert (missing.status_code, missing.json()) == (
        404,
        {"error": "model 'argmax' has no explainer"},
    )


async def test_the_projects_client_speaks_v1(server: Server) -> None:
    config = RESTConfig(protocol="v1", retries=0)
    async with InferenceRESTClient(f"http://127.0.0.1:{server.http_port}", config) as client:
        assert await client.is_server_live()
        assert await client.is_model_ready("iris")
        tensor = InferInput.of_array("input-0", IRIS_ROWS)
        assert tensor is not None
        response = await client.infer(InferRequest("iris", [tensor]))
        predictions = response.get_output_by_name("predictions")
        assert predictions is not None
        assert predictions.as_numpy().argmax(axis=1).tolist() == IRIS_CLASSES
        explanation = await client.explain(InferRequest("iris", [tensor]))
        assert explanation["meta"]["name"] == "occlusion"
        with pytest.raises(ModelNotFound, match="model 'nope' not found"):
            await client.infer(InferRequest("nope", [tensor]))


async def test_the_v1_client_reads_null_as_nan_and_large_integers_exactly(
    server: Server,
) -> None:
    config = RESTConfig(protocol="v1", retries=0)
    async with InferenceRESTClient(f"http://127.0.0.1:{server.http_port}", config) as client:
        with_nan = InferInput.of_array("b", np.array([[1.0, np.nan]], dtype=np.float32))
        ints = InferInput.of_array("x", np.array([1, 2**64 - 1], dtype=np.uint64))
        assert with_nan is not None
        assert ints is not None
        answer = await client.infer(InferRequest("floats", [with_nan]))
        predictions = answer.get_output_by_name("predictions")
        assert predictions is not None
        np.testing.assert_array_equal(predictions.as_numpy(), [[1.0, np.nan]])
        answer = await client.infer(InferRequest("words", [ints]))
        predictions = answer.get_output_by_name("predictions")
        assert predictions is not None
        assert (predictions.datatype, predictions.as_numpy().tolist()) == (
            "UINT64",
            [1, 2**64 - 1],
        )
