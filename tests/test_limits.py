"""Size limits on a real server: REST bodies beyond --http-max-body-mb are 413s (also when
streamed without Content-Length), gRPC messages beyond --grpc-max-message-mb are
RESOURCE_EXHAUSTED both ways, and the defaults take a 1x3x1024x1024 FP32 image."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import numpy as np
import orjson
import pytest

from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.service import Stub
from app.server import Server
from app.settings import ServerSettings
from tests.repo import add_model

KB = 1 / 1024  # in MB


@pytest.fixture(autouse=True)
def _tile_model(repository: Path) -> None:
    add_model(repository, "tile", "tests.toys:Tile", parameters={"times": 4})


@pytest.fixture
async def small_limits(settings: ServerSettings) -> AsyncIterator[Server]:
    """A real server whose REST bodies and gRPC messages may be 16 KB at most."""
    limited = settings.model_copy(
        update={"http_max_body_mb": 16 * KB, "grpc_max_message_mb": 16 * KB}
    )
    running = Server(limited)
    await running.start()
    yield running
    await running.stop(grace=1)


def _raw_request(model: str, values: np.ndarray) -> pb.ModelInferRequest:
    request = pb.ModelInferRequest(model_name=model)
    request.inputs.add(name="input-0", datatype="FP32", shape=list(values.shape))
    request.raw_input_contents.append(values.astype("<f4").tobytes())
    return request


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status_line = await reader.readline()
    headers = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers["content-length"]))
    return int(status_line.split()[1]), body


async def test_chunked_upload_beyond_the_limit_is_cut_off(small_limits: Server) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", small_limits.http_port)
    writer.write(
        b"POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"[" * 4096
    for _ in range(8):  # 32 KB, twice the limit; the server never sees the end
        writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    await writer.drain()
    status, body = await asyncio.wait_for(_read_answer(reader), 10)
    writer.close()
    assert status == 413
    assert orjson.loads(body)["error"].startswith("request body exceeds the limit of 16384 bytes")
    async with httpx.AsyncClient() as client:
        ready = await client.get(f"http://127.0.0.1:{small_limits.http_port}/v2/health/ready")
    assert ready.status_code == 200


async def test_grpc_request_beyond_the_limit_is_resource_exhausted(small_limits: Server) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{small_limits.grpc_port}") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await Stub(channel).ModelInfer(_raw_request("echo", np.zeros(8192)))
        assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        answer = await Stub(channel).ModelInfer(_raw_request("echo", np.zeros(16)))
        assert len(answer.raw_output_contents[0]) == 64


async def test_grpc_answer_beyond_the_limit_is_resource_exhausted(small_limits: Server) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{small_limits.grpc_port}") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:  # 8 KB in, 32 KB out
            await Stub(channel).ModelInfer(_raw_request("tile", np.zeros(2048)))
        assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        answer = await Stub(channel).ModelInfer(_raw_request("tile", np.zeros(512)))
        assert len(answer.raw_output_contents[0]) == 8192


async def test_default_limits_take_a_megapixel_fp32_image(server: Server) -> None:
    image = np.random.default_rng(1).random((1, 3, 1024, 1024), dtype=np.float32)
    big = [("grpc.max_receive_message_length", 64 * 1024 * 1024)]
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}", options=big) as channel:
        answer = await Stub(channel).ModelInfer(_raw_request("echo", image))
    assert answer.raw_output_contents[0] == image.tobytes()
    header = orjson.dumps(
        {
            "inputs": [
                {
                    "name": "input-0",
                    "datatype": "FP32",
                    "shape": list(image.shape),
                    "parameters": {"binary_data_size": image.nbytes},
                }
            ],
            "parameters": {"binary_data_output": True},
        }
    )
    async with httpx.AsyncClient(timeout=30) as client:
        reply = await client.post(
            f"http://127.0.0.1:{server.http_port}/v2/models/echo/infer",
            content=header + image.tobytes(),
            headers={"Inference-Header-Content-Length": str(len(header))},
        )
    assert reply.status_code == 200, reply.text
    assert reply.content.endswith(image.tobytes())


async def _answer_to(port: int, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head + body)
    await writer.drain()
    try:
        return await asyncio.wait_for(_read_answer(reader), 10)
    finally:
        writer.close()


async def test_content_lengths_of_many_digits_are_read_or_refused(small_limits: Server) -> None:
    body = orjson.dumps(
        {"inputs": [{"name": "input-0", "shape": [1], "datatype": "FP32", "data": [2.0]}]}
    )
    start = b"POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    padded = b"0" * 5000 + str(len(body)).encode()  # leading zeros: the same length
    status, answer = await _answer_to(
        small_limits.http_port, start + b"Content-Length: " + padded + b"\r\n\r\n", body
    )
    assert status == 200, answer
    for digits, refused in ((19, 413), (5000, 400)):  # 5000: the HTTP parser refuses it
        huge = b"9" * digits
        status, answer = await _answer_to(
            small_limits.http_port, start + b"Content-Length: " + huge + b"\r\n\r\n"
        )
        assert status == refused, answer
    async with httpx.AsyncClient() as client:
        ready = await client.get(f"http://127.0.0.1:{small_limits.http_port}/v2/health/ready")
    assert ready.status_code == 200
