"""The Server in process: both transports on port 0, readiness through start and stop."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1.health_pb2 import HealthCheckRequest, HealthCheckResponse
from grpc_health.v1.health_pb2_grpc import HealthStub

from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.service import Stub
from app.model_settings import ModelSettingsError
from app.peers import Peers
from app.server import Server
from app.settings import ServerSettings
from tests.payloads import IRIS_CLASSES, iris_request
from tests.repo import add_model
from tests.toys import Gated, GatedLoad
from tests.waiting import until


async def test_serves_rest_and_grpc(server: Server) -> None:
    assert server.http_port > 0
    assert server.grpc_port > 0
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.http_port}") as client:
        answer = await client.post("/v2/models/iris/infer", json=iris_request())
        assert answer.status_code == 200
        body = answer.json()["outputs"][0]
        assert len(body["data"]) == 6
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        assert (await Stub(channel).ServerReady(pb.ServerReadyRequest())).ready


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    """A closed gate for GatedLoad models, opened at the end whatever happens."""
    GatedLoad.gate = threading.Event()
    yield GatedLoad.gate
    GatedLoad.gate.set()


async def test_not_ready_while_models_load(tmp_path: Path, gate: threading.Event) -> None:
    add_model(tmp_path, "iris", "tests.toys:Echo")
    add_model(tmp_path, "slow", "tests.toys:GatedLoad")
    server = Server(
        ServerSettings(model_repository=tmp_path, host="127.0.0.1", http_port=0, grpc_port=0)
    )
    starting = asyncio.create_task(server.start())
    await until(lambda: server.grpc_port > 0)
    async with (
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.http_port}") as client,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel,
    ):
        ready = await client.get("/v2/health/ready")
        assert (ready.status_code, ready.json()) == (503, {"ready": False})
        assert (await client.get("/v2/health/live")).status_code == 200
        assert not (await Stub(channel).ServerReady(pb.ServerReadyRequest())).ready
        health = await HealthStub(channel).Check(HealthCheckRequest(service=""))
        assert health.status == HealthCheckResponse.NOT_SERVING
        assert not starting.done()
        gate.set()
        await starting
        ready = await client.get("/v2/health/ready")
        assert (ready.status_code, ready.json()) == (200, {"ready": True})
        assert (await Stub(channel).ServerReady(pb.ServerReadyRequest())).ready
    await server.stop(grace=1)


async def test_a_worker_makes_the_changes_written_while_it_loaded(
    tmp_path: Path, gate: threading.Event
) -> None:
    """--workers: what another worker's repository API changed after this worker read the
    changes, before it registered (so before the others could tell it), is made then."""
    repo, folder = tmp_path / "models", tmp_path / "workers"
    add_model(repo, "slow", "tests.toys:GatedLoad")
    add_model(repo, "echo", "tests.toys:Echo")
    folder.mkdir()
    settings = ServerSettings(
        model_repository=repo, host="127.0.0.1", http_port=0, grpc_port=0, peers_dir=folder
    )
    server = Server(settings)
    starting = asyncio.create_task(server.start())
    await until(lambda: server.registry.known("slow"))  # loading, the changes read
    Peers(folder).remember("echo", "unload")  # by another worker, meanwhile
    gate.set()
    await starting
    assert not server.registry.known("echo")
    assert await _model_ready(server, "echo") == (400, False)
    assert await _model_ready(server, "slow") == (200, True)
    await server.stop(grace=1)


async def _model_ready(server: Server, name: str) -> tuple[int, bool]:
    """Model readiness over REST (the status) and gRPC (the flag), which must agree."""
    async with (
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.http_port}") as client,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel,
    ):
        answer = await client.get(f"/v2/models/{name}/ready")
        ready = (await Stub(channel).ModelReady(pb.ModelReadyRequest(name=name))).ready
    assert answer.json() == {"name": name, "ready": ready}
    return answer.status_code, ready


async def test_a_model_is_ready_only_while_its_version_is(
    tmp_path: Path, gate: threading.Event
) -> None:
    add_model(tmp_path, "slow", "tests.toys:GatedLoad")
    server = Server(
        ServerSettings(model_repository=tmp_path, host="127.0.0.1", http_port=0, grpc_port=0)
    )
    starting = asyncio.create_task(server.start())
    await until(lambda: server.registry.known("slow"))
    assert server.registry.resolve("slow").state == "LOADING"
    assert await _model_ready(server, "slow") == (400, False)
    gate.set()
    await starting
    assert await _model_ready(server, "slow") == (200, True)
    body = {"inputs": [{"name": "x", "shape": [1], "datatype": "INT8", "data": [5]}]}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.http_port}") as client:
        assert (await client.post("/v2/models/slow/infer", json=body)).status_code == 200
    await server.registry.unload("slow")
    assert await _model_ready(server, "slow") == (400, False)  # unloaded, its folder is there
    await server.stop(grace=1)


@pytest.fixture
async def gated_server(tmp_path: Path) -> AsyncIterator[tuple[Server, Gated]]:
    add_model(tmp_path, "gated", "tests.toys:Gated")
    add_model(tmp_path, "echo", "tests.toys:Echo")
    server = Server(
        ServerSettings(model_repository=tmp_path, host="127.0.0.1", http_port=0, grpc_port=0)
    )
    await server.start()
    _, predictor = server.registry.predictor("gated")
    assert isinstance(predictor, Gated)
    yield server, predictor
    predictor.gate.set()
    await server.stop(grace=1)


async def test_shutdown_turns_readiness_off_and_finishes_in_flight_requests(
    gated_server: tuple[Server, Gated],
) -> None:
    server, predictor = gated_server
    body = {"inputs": [{"name": "x", "shape": [1], "datatype": "INT8", "data": [5]}]}
    async with (
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.http_port}") as client,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel,
    ):
        in_flight = asyncio.create_task(client.post("/v2/models/gated/infer", json=body))
        assert await asyncio.to_thread(predictor.entered.wait, 10)
        stopping = asyncio.create_task(server.stop(grace=5, drain=1))  # drain: still answering
        await until(lambda: server.dataplane._stopping)
        assert not (await Stub(channel).ServerReady(pb.ServerReadyRequest())).ready
        assert not await server.dataplane.ready()
        predictor.gate.set()
        answer = await in_flight
        assert answer.status_code == 200
        assert answer.json()["outputs"][0]["data"] == [5]
        await stopping
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as fresh:
            await fresh.get(f"http://127.0.0.1:{server.http_port}/v2/health/live")


BODY = {"inputs": [{"name": "x", "shape": [1], "datatype": "INT8", "data": [1]}]}


class Sender:
    """Inference requests sent over and over (REST, on new and kept connections, and gRPC)
    until `stop` is set; failures (the server closing) are ignored."""

    def __init__(self, server: Server) -> None:
        self.url = f"http://127.0.0.1:{server.http_port}/v2/models/echo/infer"
        self.target = f"127.0.0.1:{server.grpc_port}"
        self.stop = asyncio.Event()

    async def rest(self, headers: dict[str, str]) -> None:
        async with httpx.AsyncClient() as client:
            while not self.stop.is_set():
                with contextlib.suppress(httpx.HTTPError):
                    await client.post(self.url, json=BODY, headers=headers)
                await asyncio.sleep(0.001)

    async def grpc(self) -> None:
        request = pb.ModelInferRequest(model_name="echo")
        request.inputs.add(name="x", datatype="INT8", shape=[1]).contents.int_contents.append(1)
        async with grpc.aio.insecure_channel(self.target) as channel:
            while not self.stop.is_set():
                with contextlib.suppress(grpc.aio.AioRpcError):
                    await Stub(channel).ModelInfer(request)
                await asyncio.sleep(0.001)


async def test_a_model_is_not_ready_while_it_unloads(gated_server: tuple[Server, Gated]) -> None:
    server, predictor = gated_server
    body = {"inputs": [{"name": "x", "shape": [1], "datatype": "INT8", "data": [5]}]}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.http_port}") as client:
        in_flight = asyncio.create_task(client.post("/v2/models/gated/infer", json=body))
        await asyncio.to_thread(predictor.entered.wait, 10)
        unloading = asyncio.create_task(server.registry.unload("gated"))
        await until(lambda: server.registry.resolve("gated").state == "UNLOADING")
        assert await _model_ready(server, "gated") == (400, False)
        predictor.gate.set()
        assert (await in_flight).status_code == 200  # the request in flight finishes
        await unloading
    assert await _model_ready(server, "gated") == (400, False)
    assert await _model_ready(server, "echo") == (200, True)


async def test_a_grpc_load_past_its_deadline_still_loads(
    tmp_path: Path, gate: threading.Event
) -> None:
    add_model(tmp_path, "slow", "tests.toys:GatedLoad")
    server = Server(
        ServerSettings(
            model_repository=tmp_path, host="127.0.0.1", http_port=0, grpc_port=0, load_models=""
        )
    )
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        request = pb.RepositoryModelLoadRequest(model_name="slow")
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await Stub(channel).RepositoryModelLoad(request, timeout=0.3)
        assert failed.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    gate.set()  # the load goes on to its end without its caller
    await until(lambda: server.registry.known("slow"))
    await until(lambda: server.registry.resolve("slow").state == "READY")
    assert await _model_ready(server, "slow") == (200, True)
    await server.stop(grace=1)


async def test_a_cancelled_grpc_unload_still_unloads(gated_server: tuple[Server, Gated]) -> None:
    server, predictor = gated_server
    async with (
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.http_port}") as client,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel,
    ):
        in_flight = asyncio.create_task(client.post("/v2/models/gated/infer", json=BODY))
        assert await asyncio.to_thread(predictor.entered.wait, 10)
        unload = Stub(channel).RepositoryModelUnload(
            pb.RepositoryModelUnloadRequest(model_name="gated")
        )
        await until(lambda: server.registry.resolve("gated").state == "UNLOADING")
        unload.cancel()
        predictor.gate.set()
        assert (await in_flight).status_code == 200
        await until(lambda: not server.registry.known("gated"))  # unloaded, not stuck
        answer = await client.post("/v2/models/gated/infer", json=BODY)
    assert answer.status_code == 404
    assert "is unloaded" in answer.json()["error"]


async def test_a_request_still_running_after_the_grace_is_answered_503(
    gated_server: tuple[Server, Gated], caplog: pytest.LogCaptureFixture
) -> None:
    server, _ = gated_server
    caplog.set_level(logging.INFO)
    async with (
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.http_port}") as client,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel,
    ):
        in_flight = asyncio.create_task(client.post("/v2/models/gated/infer", json=BODY))
        request = pb.ModelInferRequest(model_name="gated")
        request.inputs.add(name="x", datatype="INT8", shape=[1]).contents.int_contents.append(1)
        call = Stub(channel).ModelInfer(request)
        await until(lambda: len(server.dataplane.monitor.inflight) == 2)
        await server.stop(grace=0.3)
        answer = await in_flight
        with pytest.raises(grpc.aio.AioRpcError) as cut:
            await call
    assert answer.status_code == 503
    assert answer.json() == {"error": "the server shut down before the request finished"}
    assert cut.value.code() is grpc.StatusCode.UNAVAILABLE
    assert not [r for r in caplog.records if r.exc_info]  # no traceback
    logged = [r.getMessage() for r in caplog.records]
    assert "shutdown: 2 requests did not finish within 0.3s and were cut" in logged
    assert "shutdown: every request in flight has finished" not in logged


# New connections race the listeners' close here. Now and then (about 1 run in 15) a socket
# that asyncio accepted in that race is dropped unclosed: after the stop, uvicorn's connection
# set is empty and the socket is only found by the garbage collector. The test collects it
# itself (below), where this filter lets that one warning pass, instead of its failing
# whichever test runs the collector next.
@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <(socket.socket|function _SelectorTransport.__del__)"
    ":pytest.PytestUnraisableExceptionWarning"
)
async def test_the_shutdown_report_names_only_what_was_in_flight(
    gated_server: tuple[Server, Gated], caplog: pytest.LogCaptureFixture
) -> None:
    server, predictor = gated_server
    caplog.set_level(logging.INFO, logger="oipserve")
    sender = Sender(server)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.http_port}") as client:
        in_flight = asyncio.create_task(client.post("/v2/models/gated/infer", json=BODY))
        assert await asyncio.to_thread(predictor.entered.wait, 10)
        senders = [sender.rest({}), sender.rest({"connection": "close"}), sender.grpc()]
        sending = [asyncio.create_task(each) for each in senders]
        await asyncio.sleep(0.3)
        stopping = asyncio.create_task(server.stop(grace=5))
        await asyncio.sleep(0.5)  # new requests keep coming while the listeners close
        predictor.gate.set()
        assert (await in_flight).status_code == 200
        await stopping
    sender.stop.set()
    await asyncio.gather(*sending)
    gc.collect()  # a connection dropped in the race is collected here (see the filter)
    logged = [r.getMessage() for r in caplog.records]
    closing = next(m for m in logged if m.startswith("shutdown: closing the listeners;"))
    count = int(closing.split("; ")[1].split()[0])
    finished = [m for m in logged if m.startswith("finished in-flight request")]
    assert len(finished) == count, (closing, finished)
    assert any(m.startswith("finished in-flight request gated/1 over rest") for m in finished)


async def test_serve_runs_until_asked_to_stop(settings: ServerSettings) -> None:
    server = Server(settings)
    serving = asyncio.create_task(server.serve())
    await until(lambda: server.dataplane._started)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.http_port}") as client:
        answer = await client.post("/v2/models/iris/infer", json=iris_request())
    probabilities = answer.json()["outputs"][0]["data"]
    assert [
        max(range(3), key=row.__getitem__) for row in (probabilities[:3], probabilities[3:])
    ] == IRIS_CLASSES
    server.request_stop()
    await asyncio.wait_for(serving, 10)
    assert not await server.dataplane.ready()


async def test_missing_repository_fails_fast(tmp_path: Path) -> None:
    server = Server(ServerSettings(model_repository=tmp_path / "nowhere", http_port=0, grpc_port=0))
    with pytest.raises(ModelSettingsError, match="is not a folder"):
        await server.start()
    assert server.http_port == 0


async def test_a_busy_http_port_is_an_os_error(tmp_path: Path, server: Server) -> None:
    settings = ServerSettings(
        model_repository=tmp_path, host="127.0.0.1", http_port=server.http_port, grpc_port=0
    )
    second = Server(settings)
    with pytest.raises(OSError, match=f"cannot listen for HTTP on 127.0.0.1:{server.http_port}"):
        await second.start()
    await second.stop(grace=0)


async def test_a_busy_grpc_port_is_an_os_error(tmp_path: Path, server: Server) -> None:
    settings = ServerSettings(
        model_repository=tmp_path, host="127.0.0.1", http_port=0, grpc_port=server.grpc_port
    )
    second = Server(settings)
    with pytest.raises(OSError, match=f"cannot listen for gRPC on 127.0.0.1:{server.grpc_port}"):
        await second.start()
    await second.stop(grace=0)
