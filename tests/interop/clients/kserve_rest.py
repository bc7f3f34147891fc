"""KServe's InferenceRESTClient (v2): `python -m tests.interop.clients.kserve_rest HOST:PORT
binary|json`. This client has no metadata calls; it checks health and model readiness."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from kserve import InferenceRESTClient, InferInput, InferRequest, RESTConfig
from kserve.protocol.infer_type import RequestedOutput

from tests.interop.clients.common import (
    INPUT,
    MODEL,
    OUTPUT,
    REQUEST_ID,
    UNKNOWN_MODEL,
    WRONG_DATATYPE,
    arguments,
    failure,
    report,
    rows,
)


def request(binary: bool, model: str = MODEL, datatype: str = "FP32") -> InferRequest:
    data = rows(datatype)
    tensor = InferInput(INPUT, list(data.shape), datatype)
    tensor.set_data_from_numpy(data, binary_data=binary)
    return InferRequest(
        model,
        [tensor],
        request_id=REQUEST_ID,
        request_outputs=[RequestedOutput(OUTPUT, {"binary_data": binary})],
    )


async def error_of(client: InferenceRESTClient, base: str, inference: InferRequest) -> Any:
    try:
        await client.infer(base, inference, model_name=inference.model_name)
    except httpx.HTTPStatusError as error:
        return failure(error.response.status_code, str(error))
    return None


async def run(target: str, binary: bool) -> None:
    base = f"http://{target}"
    async with InferenceRESTClient(RESTConfig(protocol="v2", retries=0)) as client:
        headers: dict[str, str] = {}
        response = await client.infer(
            base, request(binary), model_name=MODEL, response_headers=headers
        )
        output = response.outputs[0]
        report(
            live=await client.is_server_live(base),
            ready=await client.is_server_ready(base),
            model_ready=await client.is_model_ready(base, MODEL),
            unknown_model_ready=await client.is_model_ready(base, UNKNOWN_MODEL),
            probabilities=output.as_numpy(),
            datatype=output.datatype,
            # the client decodes binary outputs silently; the header shows they were binary
            binary_output="inference-header-content-length" in headers,
            id=response.id,
            unknown_model=await error_of(client, base, request(binary, model=UNKNOWN_MODEL)),
            bad_request=await error_of(client, base, request(binary, datatype=WRONG_DATATYPE)),
            ready_after=await client.is_server_ready(base),
        )


def main() -> None:
    options = arguments(["binary", "json"])
    asyncio.run(run(options.target, options.mode == "binary"))


if __name__ == "__main__":
    main()
