"""Explainers as servables: occlusion, kernel SHAP and a user's method give the
attributions a linear model has in closed form; iris' explainer answers the same over REST
v2, gRPC, the `seldon-model` header and KServe v1; the target's refusals, readiness, request
id and X- headers pass through; and explainers that cannot load say why."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import grpc
import httpx
import numpy as np
import orjson
import pytest

from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.service import Stub
from app.server import Server
from tests import toys
from tests.payloads import IRIS_ROWS
from tests.repo import IRIS, add_model, add_pipeline, tensor

WEIGHTS = [1.0, 0.0, 2.0]
BACKGROUND = np.array([[0.0, 1.0, 2.0], [2.0, 3.0, 0.0], [4.0, 5.0, 1.0], [2.0, 3.0, 1.0]])
ROWS = [[1.0, 2.0, 3.0], [5.0, -1.0, 0.5]]


def _explainer(
    repo: Path,
    name: str,
    kind: str,
    parameters: dict[str, Any] | None = None,
    background: bool = True,
    **ref: str,
) -> None:
    folder = repo / name
    folder.mkdir(parents=True)
    settings = {"name": name, "explainer": {"type": kind, **(ref or {"modelRef": "linear"})}}
    if parameters is not None:
        settings["parameters"] = parameters
    (folder / "model-settings.json").write_bytes(orjson.dumps(settings))
    if background:
        lines = ["a,b,c", *(",".join(map(str, row)) for row in BACKGROUND)]
        (folder / "background.csv").write_text("\n".join(lines) + "\n")


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    repo = tmp_path / "models"
    for bundled in ("iris", "iris-explainer"):
        shutil.copytree(IRIS.parent / bundled, repo / bundled)
    add_model(
        repo,
        "linear",
        "tests.toys:Linear",
        inputs=[tensor("input-0", "FP64", [-1, 3])],
        outputs=[tensor("output-0", "FP64", [-1])],
        parameters={"weights": WEIGHTS},
    )
    add_pipeline(repo, "lines", {"steps": [{"name": "linear"}], "output": {"steps": ["linear"]}})
    _explainer(repo, "by-occlusion", "occlusion", {"samples": 4})
    _explainer(repo, "by-shap", "kernel_shap")
    _explainer(repo, "by-user", "tests.toys:Doubling", {"scale": 3})
    _explainer(repo, "of-pipeline", "occlusion", {"samples": 4}, pipelineRef="lines")
    _explainer(repo, "of-ghost", "occlusion", modelRef="ghost")
    _explainer(repo, "bad-type", "nope")
    _explainer(repo, "no-background", "occlusion", background=False)
    _explainer(repo, "two-refs", "occlusion", modelRef="linear", pipelineRef="lines")
    _explainer(repo, "itself", "occlusion", modelRef="itself")
    _explainer(repo, "two-rows", "occlusion", {"samples": 4, "max_rows": 2})
    _explainer(repo, "bad-rows", "occlusion", {"max_rows": "many"})
    return repo


def _body(rows: list[list[float]], datatype: str = "FP64") -> dict[str, Any]:
    shape = [len(rows), len(rows[0])]
    return {"inputs": [{"name": "input-0", "shape": shape, "datatype": datatype, "data": rows}]}


def _explanation(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    (output,) = answer.json()["outputs"]
    assert (output["name"], output["datatype"], output["shape"]) == ("explanation", "BYTES", [1])
    return orjson.loads(output["data"][0])  # type: ignore[no-any-return]


def _exact(rows: list[list[float]]) -> np.ndarray:
    """A linear model's attributions against the background: w * (x - mean)."""
    exact: np.ndarray = np.array(WEIGHTS) * (np.array(rows) - BACKGROUND.mean(axis=0))
    return exact[:, :, None]


@pytest.mark.parametrize("explainer", ["by-occlusion", "by-shap", "of-pipeline"])
async def test_attributions_of_a_linear_model_are_exact(
    served: httpx.AsyncClient, explainer: str
) -> None:
    explanation = _explanation(await served.post(f"/v2/models/{explainer}/infer", json=_body(ROWS)))
    data = explanation["data"]
    np.testing.assert_allclose(data["attributions"], _exact(ROWS), atol=1e-9)
    np.testing.assert_allclose(data["prediction"], (np.array(ROWS) @ WEIGHTS)[:, None])
    np.testing.assert_allclose(data["expected_value"], [BACKGROUND.mean(axis=0) @ WEIGHTS])
    assert data["feature_names"] == ["a", "b", "c"]
    assert data["output"] == "output-0"
    kind, target = ("pipeline", "lines") if explainer == "of-pipeline" else ("model", "linear")
    assert data["target"] == {kind: target}


async def test_a_users_method(served: httpx.AsyncClient) -> None:
    explanation = _explanation(await served.post("/v2/models/by-user/infer", json=_body(ROWS)))
    assert explanation["meta"] == {"name": "tests.toys:Doubling", "explainer": "by-user"}
    np.testing.assert_allclose(explanation["data"]["attributions"], 6 * np.array(ROWS)[:, :, None])
    assert explanation["data"]["rows"] == 2


async def test_iris_is_explained_alike_by_every_address(
    served: httpx.AsyncClient, server: Server
) -> None:
    body = _body(IRIS_ROWS.tolist(), "FP32")
    by_path = await served.post("/v2/models/iris-explainer.explainer/infer", json=body)
    assert by_path.headers["x-seldon-alibi-type"] == "explanation"
    assert by_path.headers["x-seldon-alibi-method"] == "occlusion"
    header = {"seldon-model": "iris-explainer.explainer"}
    by_header = await served.post("/v2/models/iris/infer", json=body, headers=header)
    plain = await served.post("/v2/models/iris-explainer/infer", json=body)
    v1 = await served.post("/v1/models/iris:explain", json={"instances": IRIS_ROWS.tolist()})
    assert v1.status_code == 200, v1.text
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        request = pb.ModelInferRequest(model_name="iris-explainer.explainer")
        tensor = request.inputs.add(name="input-0", datatype="FP32", shape=[2, 4])
        tensor.contents.fp32_contents.extend(IRIS_ROWS.ravel().tolist())
        call = Stub(channel).ModelInfer(request)
        answer = await call
        trailing = dict(await call.trailing_metadata())
    assert trailing["x-seldon-alibi-method"] == "occlusion"
    (output,) = answer.outputs
    by_grpc = orjson.loads(
        answer.raw_output_contents[0][4:]
        if answer.raw_output_contents
        else output.contents.bytes_contents[0]
    )
    seen = [_explanation(by_path), _explanation(by_header), _explanation(plain), v1.json(), by_grpc]
    for explanation in seen[1:]:
        assert explanation == seen[0]
    attributions = np.array(seen[0]["data"]["attributions"])
    assert attributions.shape == (2, 4, 3)
    # the virginica is virginica by its petals; what a feature gives one class (the
    # probabilities sum to 1) it takes from the others
    assert attributions[1, 2:, 2].min() > 10 * abs(attributions[1, :2, 2]).max()
    np.testing.assert_allclose(attributions.sum(axis=2), 0, atol=1e-6)


async def test_the_targets_refusal_comes_through(served: httpx.AsyncClient, server: Server) -> None:
    answer = await served.post("/v2/models/iris-explainer/infer", json=_body([[1.0, 2.0]], "FP32"))
    assert (answer.status_code, answer.json()) == (
        400,
        {
            "error": "explainer 'iris-explainer': input 'input-0': shape [1, 2] does not match "
            "[-1, 4] of model 'iris'"
        },
    )
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        request = pb.ModelInferRequest(model_name="iris-explainer")
        tensor = request.inputs.add(name="input-0", datatype="FP32", shape=[1, 2])
        tensor.contents.fp32_contents.extend([1.0, 2.0])
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await Stub(channel).ModelInfer(request)
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert str(refused.value.details()).startswith("explainer 'iris-explainer': input 'input-0'")


async def test_the_request_id_and_x_headers_reach_the_target(served: httpx.AsyncClient) -> None:
    toys.SEEN.clear()
    headers = {"x-request-id": "why-1", "x-tenant": "blue"}
    answer = await served.post("/v2/models/by-occlusion/infer", json=_body(ROWS), headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-request-id"] == "why-1"
    assert answer.headers["x-tenant"] == "blue"
    assert toys.SEEN == [("why-1", {"x-tenant": "blue"})] * 2  # the rows, then the variants


async def test_an_explainer_is_ready_while_its_target_is(served: httpx.AsyncClient) -> None:
    assert (await served.get("/v2/models/by-occlusion/ready")).status_code == 200
    assert (await served.post("/v2/repository/models/linear/unload")).status_code == 200
    assert (await served.get("/v2/models/by-occlusion.explainer/ready")).status_code == 400
    answer = await served.post("/v2/models/by-occlusion/infer", json=_body(ROWS))
    assert (answer.status_code, answer.json()) == (
        503,
        {"error": "explainer 'by-occlusion' is not ready: model 'linear' is unloaded"},
    )
    assert (await served.post("/v2/repository/models/linear/load")).status_code == 200
    assert (await served.get("/v2/models/by-occlusion/ready")).status_code == 200
    ghost = await served.post("/v2/models/of-ghost/infer", json=_body(ROWS))
    assert (ghost.status_code, ghost.json()) == (
        503,
        {"error": "explainer 'of-ghost' is not ready: model 'ghost' not found"},
    )


async def test_a_model_is_no_explainer(served: httpx.AsyncClient) -> None:
    answer = await served.post("/v2/models/linear.explainer/infer", json=_body(ROWS))
    assert (answer.status_code, answer.json()) == (
        404,
        {"error": "explainer 'linear' not found: model 'linear' is not an explainer"},
    )
    unknown = await served.post("/v2/models/nope.explainer/infer", json=_body(ROWS))
    assert (unknown.status_code, unknown.json()) == (404, {"error": "explainer 'nope' not found"})


async def test_explainers_that_cannot_load_say_why(served: httpx.AsyncClient) -> None:
    index = (await served.post("/v2/repository/index", json={})).json()
    reasons = {model["name"]: model.get("reason", "") for model in index}
    assert reasons["bad-type"].endswith(
        "explainer type 'nope' is neither 'occlusion', 'kernel_shap' nor 'module:Class'"
    )
    assert "the occlusion method needs background data" in reasons["no-background"]
    assert "an explainer needs exactly one of 'modelRef' and 'pipelineRef'" in reasons["two-refs"]
    assert "an explainer cannot explain itself" in reasons["itself"]
    assert reasons["bad-rows"].endswith(
        "the parameter max_rows must be an integer >= 1, got 'many'"
    )
    assert reasons["by-occlusion"] == ""


async def test_rows_the_method_cannot_take_are_400(served: httpx.AsyncClient) -> None:
    answer = await served.post(
        "/v2/models/by-occlusion/infer",
        json={"inputs": [{"name": "input-0", "shape": [3], "datatype": "FP64", "data": [1, 2, 3]}]},
    )
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("explainer 'by-occlusion': ")


@pytest.mark.parametrize("shape", [[0, 3], [2, 0]])
async def test_a_request_of_no_rows_is_400(served: httpx.AsyncClient, shape: list[int]) -> None:
    empty = {"inputs": [{"name": "input-0", "shape": shape, "datatype": "FP64", "data": []}]}
    answer = await served.post("/v2/models/by-occlusion/infer", json=empty)
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": f"explainer 'by-occlusion': input 'input-0' of shape {shape} has no rows"},
    )


async def test_rows_beyond_max_rows_are_400(served: httpx.AsyncClient) -> None:
    assert (await served.post("/v2/models/two-rows/infer", json=_body(ROWS))).status_code == 200
    answer = await served.post("/v2/models/two-rows/infer", json=_body([*ROWS, ROWS[0]]))
    assert (answer.status_code, answer.json()) == (
        400,
        {
            "error": "explainer 'two-rows': 3 rows to explain in one request, at most 2 "
            "(parameter max_rows): each row costs the method many calls of the model"
        },
    )
