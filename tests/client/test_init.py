"""The client names, the exceptions included, are importable from `app.client` and `app`;
the gRPC client and the factory work without httpx (only the REST client needs the `client`
extra)."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap

import app
import app.client
from app.client import errors as client_errors
from app.protocol import errors as protocol_errors
from app.server import Server

# the whole exception tree users catch: every OIPError class of both error modules
ERROR_NAMES = {
    name
    for module in (protocol_errors, client_errors)
    for name, value in vars(module).items()
    if isinstance(value, type) and issubclass(value, protocol_errors.OIPError)
}
CLIENT_NAMES = ERROR_NAMES | {
    "InferInput",
    "InferOutput",
    "InferRequest",
    "InferResponse",
    "InProcessClient",
    "InferenceClient",
    "InferenceClientFactory",
    "InferenceGRPCClient",
    "InferenceRESTClient",
    "RESTConfig",
    "RequestedOutput",
    "USE_CLIENT_DEFAULT",
}


def test_names_are_exported_from_app_and_app_client() -> None:
    assert set(app.client.__all__) == CLIENT_NAMES
    assert set(app.__all__) >= CLIENT_NAMES
    assert app.__all__ == sorted(app.__all__)
    # isort-style, as ruff keeps it: constants first
    assert app.client.__all__ == sorted(app.client.__all__, key=lambda n: (not n.isupper(), n))
    for name in CLIENT_NAMES:
        assert getattr(app, name) is getattr(app.client, name)
    assert {"ClientClosed", "InvalidResponse", "ModelNotFound", "ServerUnreachable"} <= ERROR_NAMES


WITHOUT_HTTPX = """
    import asyncio, sys
    sys.modules["httpx"] = None  # as if the client extra were not installed
    import numpy as np
    from app import InferenceClientFactory, InferInput, InferRequest

    async def main(url):
        async with InferenceClientFactory.get_inference_client(url) as client:
            rows = InferInput("input-0", [1, 4], "FP32", data=[5.1, 3.5, 1.4, 0.2])
            response = await client.infer(InferRequest("iris", [rows]))
            print(type(client).__name__, response["output-0"].as_numpy().argmax())
        try:
            from app import InferenceRESTClient
        except ImportError:
            print("REST needs httpx")

    asyncio.run(main(sys.argv[1]))
"""


async def test_grpc_client_needs_no_httpx(server: Server) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        textwrap.dedent(WITHOUT_HTTPX),
        f"grpc://127.0.0.1:{server.grpc_port}",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert out.decode().splitlines() == ["InferenceGRPCClient 0", "REST needs httpx"]
