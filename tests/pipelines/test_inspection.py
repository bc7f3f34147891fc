"""Pipeline inspection: what each step was sent and answered in the last N requests, over
REST (`GET /v2/pipelines/{p}/requests/{id}`) and `oipserve pipeline inspect`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import orjson
import pytest

from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.service import Stub
from app.server import Server
from app.settings import ServerSettings
from tests.process import oipserve
from tests.repo import add_model, add_pipeline, add_tfsimples

SIMPLE: dict[str, Any] = {
    "inputs": [
        {"name": "INPUT0", "shape": [1, 2], "datatype": "INT32", "data": [5, 7]},
        {"name": "INPUT1", "shape": [1, 2], "datatype": "INT32", "data": [1, 2]},
    ]
}


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    repo = tmp_path / "models"
    add_tfsimples(repo)
    add_model(repo, "failing", "tests.toys:Failing")
    add_pipeline(
        repo,
        "fails",
        {
            "steps": [{"name": "tfsimple1"}, {"name": "failing", "inputs": ["tfsimple1"]}],
            "output": {"steps": ["failing"]},
        },
    )
    return repo


async def _serve(repository: Path, keep: int) -> Server:
    settings = ServerSettings(
        model_repository=repository,
        host="127.0.0.1",
        http_port=0,
        grpc_port=0,
        inspect_requests=keep,
    )
    running = Server(settings)
    await running.start()
    return running


@pytest.fixture
async def server(repository: Path) -> AsyncIterator[Server]:
    running = await _serve(repository, keep=2)
    yield running
    await running.stop(grace=1)


def _tensors(found: dict[str, Any], step: str, side: str) -> dict[str, Any]:
    return {t["name"]: (t["datatype"], t["shape"], t["data"]) for t in found["steps"][step][side]}


async def test_every_step_of_a_request_over_rest(served: httpx.AsyncClient) -> None:
    answer = await served.post("/v2/pipelines/tfsimples/infer", json={"id": "r1", **SIMPLE})
    assert answer.status_code == 200, answer.text
    found = (await served.get("/v2/pipelines/tfsimples/requests/r1")).json()
    assert (found["pipeline"], found["id"]) == ("tfsimples", "r1")
    assert list(found["steps"]) == ["tfsimples", "tfsimple1", "tfsimple2"]
    sent = {"INPUT0": ("INT32", [1, 2], [5, 7]), "INPUT1": ("INT32", [1, 2], [1, 2])}
    assert _tensors(found, "tfsimples", "inputs") == sent
    assert _tensors(found, "tfsimple1", "inputs") == sent
    first = {"OUTPUT0": ("INT32", [1, 2], [6, 9]), "OUTPUT1": ("INT32", [1, 2], [4, 5])}
    assert _tensors(found, "tfsimple1", "outputs") == first
    renamed = {"INPUT0": first["OUTPUT0"], "INPUT1": first["OUTPUT1"]}
    assert _tensors(found, "tfsimple2", "inputs") == renamed
    last = {"OUTPUT0": ("INT32", [1, 2], [10, 14]), "OUTPUT1": ("INT32", [1, 2], [2, 4])}
    assert _tensors(found, "tfsimple2", "outputs") == last
    assert _tensors(found, "tfsimples", "outputs") == last
    assert [o["data"] for o in answer.json()["outputs"]] == [[10, 14], [2, 4]]


async def test_a_grpc_request_by_its_header_id_and_the_last_n_kept(
    server: Server, served: httpx.AsyncClient
) -> None:
    request = pb.ModelInferRequest(model_name="tfsimples.pipeline")
    for tensor in SIMPLE["inputs"]:
        sent = request.inputs.add(name=tensor["name"], datatype="INT32", shape=tensor["shape"])
        sent.contents.int_contents.extend(tensor["data"])
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        await Stub(channel).ModelInfer(request, metadata=[("x-request-id", "g1")])
    found = (await served.get("/v2/pipelines/tfsimples/requests/g1")).json()
    assert _tensors(found, "tfsimple2", "outputs")["OUTPUT0"][2] == [10, 14]
    for n in (2, 3):  # two more requests: the server keeps two, so g1 is gone
        headers = {"x-request-id": f"r{n}"}
        answer = await served.post("/v2/pipelines/tfsimples/infer", json=SIMPLE, headers=headers)
        assert answer.status_code == 200
    gone = await served.get("/v2/pipelines/tfsimples/requests/g1")
    assert gone.status_code == 404
    assert gone.json() == {"error": "pipeline 'tfsimples' has no request 'g1' to inspect"}
    assert (await served.get("/v2/pipelines/tfsimples/requests/r2")).status_code == 200


async def test_a_failed_request_shows_where_it_stopped(served: httpx.AsyncClient) -> None:
    answer = await served.post("/v2/pipelines/fails/infer", json={"id": "f1", **SIMPLE})
    assert answer.status_code >= 400
    found = (await served.get("/v2/pipelines/fails/requests/f1")).json()
    assert list(found["steps"]) == ["fails", "tfsimple1", "failing"]
    assert list(found["steps"]["tfsimple1"]) == ["inputs", "outputs"]
    assert list(found["steps"]["failing"]) == ["inputs"]  # sent, never answered
    assert list(found["steps"]["fails"]) == ["inputs"]


async def test_unknown_pipelines_and_requests_are_404s(served: httpx.AsyncClient) -> None:
    missing = await served.get("/v2/pipelines/nope/requests/r1")
    assert missing.status_code == 404
    assert missing.json() == {"error": "pipeline 'nope' not found"}
    assert (await served.get("/v2/pipelines/tfsimples/requests/never")).status_code == 404


async def test_off_by_default_and_the_404_says_how_to_turn_it_on(repository: Path) -> None:
    running = await _serve(repository, keep=0)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{running.http_port}") as served:
            answer = await served.post("/v2/pipelines/tfsimples/infer", json={"id": "r", **SIMPLE})
            assert answer.status_code == 200
            found = await served.get("/v2/pipelines/tfsimples/requests/r")
    finally:
        await running.stop(grace=1)
    assert found.status_code == 404
    assert "--inspect-requests N" in found.json()["error"]


async def _oipserve(*args: str) -> tuple[int, str, str]:
    return await oipserve("pipeline", "inspect", *args)


async def test_the_inspect_command(server: Server, served: httpx.AsyncClient) -> None:
    """Of a request whose id holds "/", which the REST path keeps."""
    answer = await served.post("/v2/pipelines/tfsimples/infer", json={"id": "c/1", **SIMPLE})
    assert answer.status_code == 200
    url = f"http://127.0.0.1:{server.http_port}"
    code, out, err = await _oipserve(url, "tfsimples.tfsimple1.outputs", "--request-id", "c/1")
    assert code == 0, err
    assert out.splitlines() == [
        "tfsimple1.outputs.OUTPUT0\tINT32\t[1, 2]\t[6,9]",
        "tfsimple1.outputs.OUTPUT1\tINT32\t[1, 2]\t[4,5]",
    ]
    code, out, err = await _oipserve(url, "tfsimples", "--request-id", "c/1", "--json")
    assert code == 0, err
    shown = orjson.loads(out)
    assert len(shown) == 12  # 2 tensors x (the pipeline's and 2 steps') inputs and outputs
    assert shown["tfsimple2.inputs.INPUT1"]["data"] == [4, 5]
    code, out, err = await _oipserve(
        url, "tfsimples.tfsimple2.inputs.INPUT0", "--request-id", "c/1"
    )
    assert (code, out) == (0, "tfsimple2.inputs.INPUT0\tINT32\t[1, 2]\t[6,9]\n")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["tfsimples", "--request-id", "none"], 1, "pipeline 'tfsimples' has no request 'none'"),
        (["nope", "--request-id", "c2"], 1, "pipeline 'nope' not found"),
        (["tfsimples.tfsimple1.sideways", "--request-id", "c2"], 2, "expected PIPELINE[.STEP"),
        (["tfsimples.other", "--request-id", "c2"], 2, "no tensors at 'tfsimples.other'"),
    ],
)
async def test_the_inspect_command_names_what_is_wrong(
    server: Server, served: httpx.AsyncClient, args: list[str], code: int, message: str
) -> None:
    answer = await served.post("/v2/pipelines/tfsimples/infer", json={"id": "c2", **SIMPLE})
    assert answer.status_code == 200
    url = f"http://127.0.0.1:{server.http_port}"
    found, out, err = await _oipserve(url, *args)
    assert (found, out) == (code, "")
    assert message in err


async def test_the_inspect_command_wants_a_rest_url() -> None:
    code, _, err = await _oipserve("127.0.0.1:8081", "tfsimples", "--request-id", "x")
    assert code == 2
    assert "inspection is served over REST" in err
